package lattice_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/signing"
)

// startHost starts a host joined to url with labels; reconciler says
// whether it runs an app reconciler candidate.
func startHost(t *testing.T, url string, reconciler bool, labels ...string) *lattice.Node {
	t.Helper()
	n, err := lattice.Start(context.Background(), lattice.Options{
		NATSURL: url, Labels: pairs(labels...), Log: quiet,
		Apps: lattice.AppControllerOptions{Disabled: !reconciler},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

func pairs(kv ...string) map[string]string {
	m := map[string]string{}
	for _, p := range kv {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return m
}

func deploy(t *testing.T, c *lattice.Client, yaml string) *lattice.Manifest {
	t.Helper()
	m, err := lattice.ParseManifest("app.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeployApp(context.Background(), m, []byte(yaml)); err != nil {
		t.Fatal(err)
	}
	return m
}

// placement is where an app's actor runs: "host:instances" in host order,
// named by the hosts' "name" label.
func placement(t *testing.T, c *lattice.Client, app string) string {
	t.Helper()
	hosts, err := c.Hosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	n := lattice.AppInstances(hosts, app)
	for _, h := range hosts {
		if n[h.ID] > 0 {
			out = append(out, fmt.Sprintf("%s:%d", h.Labels["name"], n[h.ID]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func waitState(t *testing.T, c *lattice.Client, app, state string, total time.Duration) lattice.AppStatus {
	t.Helper()
	var st lattice.AppStatus
	testkit.CheckFor(t, total, 100*time.Millisecond, func() error {
		all, err := c.AppStatuses(context.Background(), app)
		if err != nil {
			return err
		}
		st = all[0]
		if st.State != state {
			return fmt.Errorf("app %s is %s, want %s: %v", app, st.State, state, st.Problems)
		}
		return nil
	})
	return st
}

func waitPlacement(t *testing.T, c *lattice.Client, app, want string, total time.Duration) {
	t.Helper()
	testkit.CheckFor(t, total, 100*time.Millisecond, func() error {
		if got := placement(t, c, app); got != want {
			return fmt.Errorf("placement %q, want %q", got, want)
		}
		return nil
	})
}

const echoApp = `name: echoes
version: v1
actors:
  - name: echo
    ref: echo:r1
    instances: 4
    spread:
      - {name: edge, weight: 75, requirements: {zone: edge}}
      - {name: cloud, weight: 25, requirements: {zone: cloud}}
    links:
      - {contract: spore:logging, provider: logging, values: {level: info}}
providers:
  - {name: logging, requirements: {zone: cloud}}
`

func TestAppDeployHealUndeploy(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, map[string]string{"zone": "cloud", "name": "c1"})
	e1 := startHost(t, hub.ClientURL(), true, "zone=edge", "name=e1")
	e2 := startHost(t, hub.ClientURL(), true, "zone=edge", "name=e2")
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo", spore.ContractLogging))
	// Something the app did not make, which it must leave alone.
	other := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "bystander"))
	if _, err := c.StartActor(ctx, lattice.StartActor{Ref: other.Ref}, nil, e1.ID()); err != nil {
		t.Fatal(err)
	}

	deploy(t, c, echoApp)
	st := waitState(t, c, "echoes", lattice.AppDeployed, 20*time.Second)
	if got := placement(t, c, "echoes"); got != "c1:1 e1:2 e2:1" && got != "c1:1 e1:1 e2:2" {
		t.Fatalf("placement %q: want 3 on the edge hosts, 1 in the cloud", got)
	}
	if a := st.Actors[0]; a.Running != 4 || a.Spreads[0].Running != 3 || a.Spreads[1].Running != 1 {
		t.Fatalf("status %+v", a)
	}
	if out, err := c.Call(ctx, "echo", "Echo", []byte("hi")); err != nil || string(out) != "hi" {
		t.Fatalf("call: %q, %v", out, err)
	}
	links, _ := c.Links(ctx)
	if len(links) != 1 || links[0].Values["level"] != "info" {
		t.Fatalf("links %+v", links)
	}

	// An edge host goes: its share moves to the other edge host.
	e2.Close(ctx)
	waitPlacement(t, c, "echoes", "c1:1 e1:3", 20*time.Second)
	// A new edge host comes: the spread is restored.
	startHost(t, hub.ClientURL(), true, "zone=edge", "name=e3")
	waitPlacement(t, c, "echoes", "c1:1 e1:2 e3:1", 20*time.Second)
	waitState(t, c, "echoes", lattice.AppDeployed, 10*time.Second)

	// Undeploy removes the actors, the provider and the link it made, and
	// only those.
	if err := c.UndeployApp(ctx, "echoes"); err != nil {
		t.Fatal(err)
	}
	testkit.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		if _, err := c.AppStatuses(ctx, "echoes"); spore.CodeOf(err) != spore.CodeNotFound {
			return fmt.Errorf("app still known: %v", err)
		}
		return nil
	})
	hosts, _ := c.Hosts(ctx)
	var left []string
	for _, h := range hosts {
		for _, a := range h.Actors {
			left = append(left, a.Name)
		}
		for _, p := range h.Providers {
			left = append(left, "provider "+p.Name)
		}
	}
	if strings.Join(left, ",") != "bystander" {
		t.Fatalf("after undeploy the lattice runs %v; want only the bystander", left)
	}
	if links, _ := c.Links(ctx); len(links) != 0 {
		t.Fatalf("links left: %+v", links)
	}
}

func TestAppRollForward(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, map[string]string{"name": "a"})
	startHost(t, hub.ClientURL(), true, "name=b")
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	v2 := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo2"))
	app := "name: roll\nversion: v1\nactors:\n  - {name: api, ref: echo:r1, instances: 2}\n"
	deploy(t, c, app)
	waitState(t, c, "roll", lattice.AppDeployed, 20*time.Second)
	waitPlacement(t, c, "roll", "a:1 b:1", time.Second)

	deploy(t, c, strings.NewReplacer("v1", "v2", "echo:r1", v2.Ref).Replace(app))
	waitState(t, c, "roll", lattice.AppDeployed, 20*time.Second)
	hosts, _ := c.Hosts(ctx)
	for _, h := range hosts {
		if len(h.Actors) != 1 || h.Actors[0].Name != "echo2" || h.Actors[0].Annotations[lattice.AnnotationAppVersion] != "v2" {
			t.Fatalf("host %s runs %+v; want only echo2 of v2", h.Labels["name"], h.Actors)
		}
	}
	// The manifest's versions are kept.
	hist, err := c.State().Apps.History(ctx, "roll")
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %d entries, %v", len(hist), err)
	}
}

// A spread nobody can take is reported, and the rest still deploys.
func TestAppStatusSaysWhatIsMissing(t *testing.T) {
	hub := startHub(t, map[string]string{"zone": "cloud", "name": "c1"})
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo", spore.ContractLogging))
	deploy(t, c, echoApp)
	testkit.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		all, err := c.AppStatuses(context.Background(), "echoes")
		if err != nil {
			return err
		}
		st := all[0]
		want := "actor echo: spread edge: no host satisfies zone=edge"
		if st.State != lattice.AppDeploying || len(st.Problems) != 1 || st.Problems[0] != want {
			return fmt.Errorf("status %s %q; want deploying with %q", st.State, st.Problems, want)
		}
		if st.Actors[0].Spreads[1].Running != 1 {
			return fmt.Errorf("cloud spread: %+v", st.Actors[0].Spreads[1])
		}
		return nil
	})
	// A ref that is not in the lattice is refused at deploy.
	m, _ := lattice.ParseManifest("x.yaml", []byte("name: x\nversion: v1\nactors: [{name: a, ref: nothing:1}]\n"))
	_, err := c.DeployApp(context.Background(), m, nil)
	if spore.CodeOf(err) != spore.CodeNotFound || !strings.Contains(err.Error(), `actors[0].ref: no artifact "nothing:1"`) {
		t.Fatalf("deploy with a missing ref: %v", err)
	}
}

// Losing the host the reconciler runs on does not stop reconciliation.
func TestAppReconcilerFailover(t *testing.T) {
	ctx := context.Background()
	// The hub runs no candidate, so the leader is a host we can stop.
	hub := startHubNoApps(t)
	a := startHost(t, hub.ClientURL(), true, "name=a", "role=worker")
	b := startHost(t, hub.ClientURL(), true, "name=b", "role=worker")
	c := connect(t, hub.ClientURL(), "default")
	var leader string
	testkit.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		var err error
		leader, err = c.AppReconciler(ctx)
		if err == nil && leader == "" {
			err = fmt.Errorf("no reconciler leads")
		}
		return err
	})
	lead, follower := a, b
	if leader == b.ID() {
		lead, follower = b, a
	}
	lead.Close(ctx)
	testkit.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if l, _ := c.AppReconciler(ctx); l != follower.ID() {
			return fmt.Errorf("leader %q, want %s", l, follower.ID())
		}
		return nil
	})
	s := testkit.NewSigner(t)
	push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	deploy(t, c, "name: f\nversion: v1\nactors:\n  - {name: api, ref: echo:r1, instances: 3, spread: [{name: w, requirements: {role: worker}}]}\n")
	waitState(t, c, "f", lattice.AppDeployed, 20*time.Second)
	want := follower.Labels()["name"] + ":3"
	waitPlacement(t, c, "f", want, time.Second)
}

func startHubNoApps(t *testing.T) *lattice.Node {
	t.Helper()
	n, err := lattice.Start(context.Background(), lattice.Options{
		Server: lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: t.TempDir()},
		Labels: map[string]string{"name": "hub", "role": "nats"},
		Log:    quiet,
		Apps:   lattice.AppControllerOptions{Disabled: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

// A leader that died without giving the lease up keeps it until it lapses,
// LeaseTTL after its last renewal; then a candidate takes it.
func TestAppLeaseOfADeadLeaderLapses(t *testing.T) {
	ctx := context.Background()
	hub := startHubNoApps(t)
	c := connect(t, hub.ClientURL(), "default")
	js, err := jetstream.New(c.Conn())
	if err != nil {
		t.Fatal(err)
	}
	// The bucket and key docs/apps.md names.
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: "spore_default_leases", History: 1, TTL: lattice.LeaseTTL, Storage: jetstream.MemoryStorage,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctx, "app_reconciler", []byte("NDEAD")); err != nil {
		t.Fatal(err)
	}
	died := time.Now()
	a := startHost(t, hub.ClientURL(), true, "name=a")
	testkit.CheckFor(t, lattice.LeaseTTL+lattice.LeaseRenew+3*time.Second, 50*time.Millisecond, func() error {
		l, err := c.AppReconciler(ctx)
		if err == nil && l != a.ID() {
			err = fmt.Errorf("leader %q", l)
		}
		return err
	})
	if took := time.Since(died); took < lattice.LeaseTTL-500*time.Millisecond {
		t.Fatalf("the lease was taken %s after its holder's last renewal; it should hold for %s", took, lattice.LeaseTTL)
	}
}

// A higher revision of the same actor, and a rollback to a lower one,
// replace it host by host.
func TestAppUpgradeAndRollback(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, map[string]string{"name": "a"})
	startHost(t, hub.ClientURL(), true, "name=b")
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	kp, _ := signing.NewKey(signing.KindActor)
	id, _ := kp.PublicKey()
	echo := testkit.WAT(t, "host/testdata/echo.wat")
	for rev := 1; rev <= 2; rev++ {
		push(t, c, s.SignClaims(t, echo, signing.Claims{ID: id, Name: "echo", Revision: rev}))
	}
	app := "name: up\nversion: VERSION\nactors:\n  - {name: api, ref: REF, instances: 4}\n"
	for _, step := range []struct{ version, ref string }{{"v1", "echo:r1"}, {"v2", "echo:r2"}, {"v3", "echo:r1"}} {
		deploy(t, c, strings.NewReplacer("VERSION", step.version, "REF", step.ref).Replace(app))
		waitState(t, c, "up", lattice.AppDeployed, 30*time.Second)
		hosts, _ := c.Hosts(ctx)
		for _, h := range hosts {
			if len(h.Actors) != 1 || h.Actors[0].ID != id || "echo:r"+fmt.Sprint(h.Actors[0].Revision) != step.ref || h.Actors[0].Instances != 2 {
				t.Fatalf("%s: host %s runs %+v; want 2 instances of %s", step.version, h.Labels["name"], h.Actors, step.ref)
			}
		}
		if out, err := c.Call(ctx, id, "Echo", []byte(step.version)); err != nil || string(out) != step.version {
			t.Fatalf("%s: call: %q, %v", step.version, out, err)
		}
	}
}
