package apps

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

// What a user sees from 'spore app' when things are not right.
func TestAppCommandsSayWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	signedActor(t, testkit.NewSigner(t), dir, "host/testdata/echo.wat", "echo")
	hub := upHost(t, "c1", 30*time.Second, nil, "--nats-listen", "127.0.0.1:0", "--leaf-listen", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--label", "zone=cloud", "--label", "name=c1")

	t.Run("every manifest error at once, nothing deployed", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(testkit.Root(), "lattice", "testdata", "app_broken.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "broken.yaml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := sporeRun(t, hub.NATSURL, "app", "deploy", path)
		if err == nil || !strings.Contains(stderr, "11 problem(s), nothing deployed") ||
			!strings.Contains(stderr, "broken.yaml:6: actors[0].instances: must be >= 1") ||
			!strings.Contains(stderr, "broken.yaml:18: providers[0].name: required") {
			t.Fatalf("deploy of a broken manifest: %v\n%s", err, stderr)
		}
		if out := runSpore(t, hub.NATSURL, "-o", "json", "app", "ls"); strings.TrimSpace(out) != "[]" {
			t.Fatalf("app ls: %s", out)
		}
	})

	t.Run("a missing actor file", func(t *testing.T) {
		path := writeManifest(t, dir, "name: x\nversion: v1\nactors: [{name: a, ref: ./nope.wasm}]\n")
		_, stderr, err := sporeRun(t, hub.NATSURL, "app", "deploy", path)
		if err == nil || !strings.Contains(stderr, "actors[0].ref:") || !strings.Contains(stderr, "nope.wasm: no such file") {
			t.Fatalf("deploy: %v\n%s", err, stderr)
		}
	})

	t.Run("a spread no host satisfies", func(t *testing.T) {
		path := writeManifest(t, dir, spreadApp)
		_, stderr, err := sporeRun(t, hub.NATSURL, "app", "deploy", "--timeout", "4s", path)
		if err == nil || !strings.Contains(stderr, "app shop is not deployed after 4s: actor api: spread edge: no host satisfies zone=edge") {
			t.Fatalf("deploy: %v\n%s", err, stderr)
		}
		var st lattice.AppStatus
		out := runSpore(t, hub.NATSURL, "-o", "json", "app", "status", "shop")
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatal(err)
		}
		if st.State != lattice.AppDeploying || st.Actors[0].Spreads[1].Running != 1 || st.Actors[0].Spreads[0].Problem != "no host satisfies zone=edge" {
			t.Fatalf("status: %s", out)
		}
		// An edge host arrives: the app deploys without anyone asking.
		upHost(t, "e1", 30*time.Second, nil, "--nats", hub.NATSURL, "--label", "zone=edge", "--label", "name=e1")
		c := client(t, hub.NATSURL)
		waitPlacement(t, c, "shop", 20*time.Second, "c1:1 e1:3")
		out = runSpore(t, hub.NATSURL, "app", "ls")
		if !strings.Contains(out, "shop  v1       deployed  4/4") {
			t.Fatalf("app ls:\n%s", out)
		}
		runSpore(t, hub.NATSURL, "app", "undeploy", "shop")
	})

	t.Run("unknown app", func(t *testing.T) {
		_, stderr, err := sporeRun(t, hub.NATSURL, "app", "status", "nothing")
		if err == nil || !strings.Contains(stderr, `no app "nothing" is deployed (see 'spore app ls')`) {
			t.Fatalf("status: %v\n%s", err, stderr)
		}
	})
}
