package apps

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

// crossSpore builds spore for linux/GOARCH (goarm for arm), as 'make cross'
// does, once per test binary.
func crossSpore(t *testing.T, goarch, goarm string) string {
	return testkit.Spore(t, "GOOS=linux", "GOARCH="+goarch, "GOARM="+goarm, "CGO_ENABLED=0")
}

// upHost runs 'spore up -o json args...' (under the emulator, when given,
// as "qemu-aarch64-static BIN") with a home of its own, and waits until it
// says it is ready.
func upHost(t *testing.T, name string, ready time.Duration, argv []string, args ...string) *testkit.Host {
	t.Helper()
	if argv == nil {
		argv = []string{testkit.Spore(t)}
	}
	cmd := exec.Command(argv[0], append(append(argv[1:], "-o", "json", "up"), args...)...)
	cmd.Env = testkit.SporeEnv("SPORE_HOME=" + t.TempDir())
	return testkit.StartHost(t, name, ready, cmd)
}

// runSpore runs one spore command against the lattice at url and returns its
// stdout; a failure fails the test with stderr.
func runSpore(t *testing.T, url string, args ...string) string {
	t.Helper()
	out, errOut, err := sporeRun(t, url, args...)
	if err != nil {
		t.Fatalf("spore %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func sporeRun(t *testing.T, url string, args ...string) (string, string, error) {
	bin := testkit.Spore(t)
	return testkit.RunSpore(bin, testkit.SporeEnv("SPORE_HOME="+filepath.Dir(bin)), 3*time.Minute, append([]string{"--nats", url}, args...)...)
}

// client joins the lattice at url from the test.
func client(t *testing.T, url string) *lattice.Client {
	t.Helper()
	c, err := lattice.Connect(context.Background(), lattice.ClientOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	c.Wait = 500 * time.Millisecond
	t.Cleanup(c.Close)
	return c
}

// signedActor writes a signed actor built from a WAT file to dir and
// returns its path.
func signedActor(t *testing.T, s *testkit.Signer, dir, wat, name string, caps ...string) string {
	t.Helper()
	path := filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(path, s.Sign(t, testkit.WAT(t, wat), name, caps...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeManifest writes an app manifest to dir.
func writeManifest(t *testing.T, dir, yaml string) string {
	t.Helper()
	path := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// placement is where an app's actors run, as "host:instances" sorted, with
// hosts named by their "name" label.
func placement(ctx context.Context, c *lattice.Client, app string) (string, error) {
	hosts, err := c.Hosts(ctx)
	if err != nil {
		return "", err
	}
	var out []string
	n := lattice.AppInstances(hosts, app)
	for _, h := range hosts {
		if n[h.ID] > 0 {
			out = append(out, fmt.Sprintf("%s:%d", h.Labels["name"], n[h.ID]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " "), nil
}

// waitPlacement polls until the app's placement is one of want, and
// returns how long that took.
func waitPlacement(t *testing.T, c *lattice.Client, app string, total time.Duration, want ...string) time.Duration {
	t.Helper()
	start := time.Now()
	testkit.CheckFor(t, total, 50*time.Millisecond, func() error {
		got, err := placement(context.Background(), c, app)
		if err != nil {
			return err
		}
		for _, w := range want {
			if got == w {
				return nil
			}
		}
		return fmt.Errorf("app %s runs %q, want %q", app, got, want)
	})
	return time.Since(start)
}
