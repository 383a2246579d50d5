package apps

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

const spreadApp = `name: shop
version: v1
actors:
  - name: api
    ref: ./echo.wasm
    instances: 4
    spread:
      - {name: edge, weight: 75, requirements: {zone: edge}}
      - {name: cloud, weight: 25, requirements: {zone: cloud}}
`

// Three host processes with labels; deploy; kill -9 one; its share moves to
// the other eligible host; it comes back and the spread is restored;
// undeploy removes it all.
func TestSpreadHealsAcrossHostProcesses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	signedActor(t, testkit.NewSigner(t), dir, "host/testdata/echo.wat", "echo")
	hub := upHost(t, "c1", 30*time.Second, nil, "--nats-listen", "127.0.0.1:0", "--leaf-listen", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--label", "zone=cloud", "--label", "name=c1")
	edge := func(name string) *testkit.Host {
		return upHost(t, name, 30*time.Second, nil, "--nats", hub.NATSURL, "--label", "zone=edge", "--label", "name="+name)
	}
	e1, e2 := edge("e1"), edge("e2")
	_ = e1

	var st lattice.AppStatus
	out := runSpore(t, hub.NATSURL, "-o", "json", "app", "deploy", writeManifest(t, dir, spreadApp))
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.State != lattice.AppDeployed {
		t.Fatalf("deploy printed %s (%v)", out, err)
	}
	c := client(t, hub.NATSURL)
	waitPlacement(t, c, "shop", 5*time.Second, "c1:1 e1:2 e2:1", "c1:1 e1:1 e2:2")
	if got, err := c.Call(ctx, "echo", "Echo", []byte("hi")); err != nil || string(got) != "hi" {
		t.Fatalf("call: %q, %v", got, err)
	}

	e2.Kill()
	healed := waitPlacement(t, c, "shop", 30*time.Second, "c1:1 e1:3")
	t.Logf("kill -9 of an edge host to its share on the other edge host: %s", healed.Round(10*time.Millisecond))
	if max := lattice.HostTTL + 3*lattice.DefaultReconcileInterval; healed > max+2*time.Second {
		t.Errorf("healing took %s; docs/apps.md promises about %s", healed, max)
	}

	edge("e2")
	restored := waitPlacement(t, c, "shop", 30*time.Second, "c1:1 e1:2 e2:1")
	t.Logf("edge host back to spread restored: %s", restored.Round(10*time.Millisecond))

	out = runSpore(t, hub.NATSURL, "app", "status", "shop")
	for _, want := range []string{"State       deployed", "edge    zone=edge     3        3", "cloud   zone=cloud    1        1"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	runSpore(t, hub.NATSURL, "app", "undeploy", "shop")
	if got, _ := placement(ctx, c, "shop"); got != "" {
		t.Fatalf("after undeploy the app still runs %q", got)
	}
	if out := runSpore(t, hub.NATSURL, "-o", "json", "app", "ls"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("app ls after undeploy: %s", out)
	}
}

// kill -9 of the host whose reconciler leads: another host takes the lease
// and moves the dead host's share.
func TestReconcilerSurvivesItsHost(t *testing.T) {
	// NATS runs in the test, so any host may die without taking the
	// lattice with it (the cloud-VM topology of docs/deploy.md).
	srv, err := lattice.StartServer(lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	url := srv.ClientURL()
	dir := t.TempDir()
	signedActor(t, testkit.NewSigner(t), dir, "host/testdata/echo.wat", "echo")
	hosts := map[string]*testkit.Host{}
	for _, name := range []string{"a", "b", "c"} {
		hosts[name] = upHost(t, name, 30*time.Second, nil, "--nats", url, "--label", "name="+name)
	}
	runSpore(t, url, "app", "deploy", writeManifest(t, dir, "name: trio\nversion: v1\nactors:\n  - {name: api, ref: ./echo.wasm, instances: 6}\n"))
	c := client(t, url)
	waitPlacement(t, c, "trio", 5*time.Second, "a:2 b:2 c:2")

	leader, err := c.AppReconciler(context.Background())
	if err != nil || leader == "" {
		t.Fatalf("leader %q, %v", leader, err)
	}
	var dead string
	for name, h := range hosts {
		if h.HostID == leader {
			dead = name
			h.Kill()
		}
	}
	killed := time.Now()
	testkit.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		l, err := c.AppReconciler(context.Background())
		if err != nil || l == "" || l == leader {
			return fmt.Errorf("leader %q (%v); want another than the dead %s", l, err, leader)
		}
		return nil
	})
	t.Logf("kill -9 of the leader's host to a new leader: %s", time.Since(killed).Round(10*time.Millisecond))
	var want []string
	for _, name := range []string{"a", "b", "c"} {
		if name != dead {
			want = append(want, name+":3")
		}
	}
	waitPlacement(t, c, "trio", 30*time.Second, strings.Join(want, " "))
	t.Logf("kill -9 of the leader's host to its share moved: %s", time.Since(killed).Round(10*time.Millisecond))
}

// The ARM builds, under qemu, join an amd64 host's lattice as leaf nodes
// (the edge topology), receive the actor placed by their arch label, and
// answer calls: linux/arm64 with wazero's compiler, linux/arm (armv7) with
// its interpreter.
func TestARMLeafHostsUnderQemu(t *testing.T) {
	cases := []struct {
		qemu, goarch, goarm, arch string
	}{
		{"qemu-aarch64-static", "arm64", "", "arm64"},
		{"qemu-arm-static", "arm", "7", "arm"},
	}
	for _, tc := range cases {
		t.Run(tc.goarch+tc.goarm, func(t *testing.T) {
			qemu, err := exec.LookPath(tc.qemu)
			if err != nil {
				t.Skipf("%s is not installed (apt-get install qemu-user-static, or 'make tools'): cannot run the linux/%s host", tc.qemu, tc.goarch)
			}
			armLeaf(t, qemu, crossSpore(t, tc.goarch, tc.goarm), tc.arch)
		})
	}
}

func armLeaf(t *testing.T, qemu, bin, arch string) {
	dir := t.TempDir()
	signedActor(t, testkit.NewSigner(t), dir, "host/testdata/echo.wat", "echo")
	hub := upHost(t, "hub", 30*time.Second, nil, "--nats-listen", "127.0.0.1:0", "--leaf-listen", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--label", "zone=cloud", "--label", "name=hub")
	began := time.Now()
	pi := upHost(t, "pi", 3*time.Minute, []string{qemu, bin}, "--leaf", hub.LeafURL, "--nats-listen", "127.0.0.1:0",
		"--label", "zone=edge", "--label", "name=pi")
	t.Logf("%s host up under %s: %s", arch, filepath.Base(qemu), time.Since(began).Round(time.Second))
	app := `name: armed
version: v1
actors:
  - name: echo
    ref: ./echo.wasm
    instances: 2
    spread:
      - {name: arm, requirements: {arch: ` + arch + `}}
`
	began = time.Now()
	runSpore(t, hub.NATSURL, "app", "deploy", "--timeout", "3m", writeManifest(t, dir, app))
	t.Logf("deployed on the %s host: %s", arch, time.Since(began).Round(time.Second))
	c := client(t, hub.NATSURL)
	waitPlacement(t, c, "armed", 10*time.Second, "pi:2")
	ctx := context.Background()
	for i := range 20 {
		in := fmt.Sprintf("call %d from amd64", i)
		out, err := c.Call(ctx, "echo", "Echo", []byte(in))
		if err != nil || string(out) != in {
			t.Fatalf("call %d: %q, %v", i, out, err)
		}
	}
	inv, err := c.Inventory(ctx, pi.HostID)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Labels["arch"] != arch || len(inv.Actors) != 1 || inv.Actors[0].Stats.Invocations < 20 {
		t.Fatalf("%s host: labels %v, actors %+v; want arch=%s serving 20 calls", arch, inv.Labels, inv.Actors, arch)
	}
}
