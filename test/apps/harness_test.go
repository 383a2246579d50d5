package apps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

// binDir holds the spore binaries under test, built by TestMain (amd64)
// and on first use (arm64).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spore-apps-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	if err := buildSpore("spore"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildSpore builds cmd/spore into binDir/name with extra environment
// (GOOS, GOARCH).
func buildSpore(name string, env ...string) error {
	cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), "./cmd/spore")
	cmd.Dir = testkit.Root()
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apps: go build %s: %v\n%s", name, err, out)
	}
	return nil
}

// crossSpore builds spore for linux/GOARCH (goarm for arm), as 'make cross'
// does, once per test binary.
func crossSpore(t *testing.T, goarch, goarm string) string {
	name := "spore-linux-" + goarch + goarm
	crossMu.Lock()
	defer crossMu.Unlock()
	if _, done := crossBuilt[name]; !done {
		crossBuilt[name] = buildSpore(name, "GOOS=linux", "GOARCH="+goarch, "GOARM="+goarm, "CGO_ENABLED=0")
	}
	if err := crossBuilt[name]; err != nil {
		t.Fatal(err)
	}
	return filepath.Join(binDir, name)
}

var (
	crossMu    sync.Mutex
	crossBuilt = map[string]error{}
)

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hostProc is a 'spore up' process.
type hostProc struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	log    *syncBuffer
	done   chan struct{}
	HostID string `json:"host_id"`
	NATS   string `json:"nats_url"`
	Leaf   string `json:"leaf_url"`
}

// upHost runs 'spore up -o json args...' (under the emulator, when given,
// as "qemu-aarch64-static BIN") and waits until it says it is ready.
func upHost(t *testing.T, name string, ready time.Duration, argv []string, args ...string) *hostProc {
	t.Helper()
	if argv == nil {
		argv = []string{filepath.Join(binDir, "spore")}
	}
	h := &hostProc{name: name, out: &syncBuffer{}, log: &syncBuffer{}, done: make(chan struct{})}
	full := append(append(argv[1:], "-o", "json", "up"), args...)
	h.cmd = exec.Command(argv[0], full...)
	h.cmd.Env = sporeEnv("SPORE_HOME=" + t.TempDir())
	h.cmd.Stdout, h.cmd.Stderr = h.out, h.log
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		h.kill()
		if t.Failed() {
			t.Logf("--- host %s log (last lines):\n%s", name, tail(h.log.String(), 30))
		}
	})
	testkit.CheckFor(t, ready, 20*time.Millisecond, func() error {
		select {
		case <-h.done:
			t.Fatalf("host %s exited before it was ready:\n%s", name, tail(h.log.String(), 30))
		default:
		}
		return json.Unmarshal([]byte(h.out.String()), h)
	})
	return h
}

// sporeEnv is this process's environment without SPORE_ settings, plus
// extra.
func sporeEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPORE_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// kill is 'kill -9': the host gets no chance to say goodbye.
func (h *hostProc) kill() {
	select {
	case <-h.done:
	default:
		_ = h.cmd.Process.Signal(syscall.SIGKILL)
		<-h.done
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runSpore runs one spore command against the lattice at url and returns its
// stdout; a failure fails the test with stderr.
func runSpore(t *testing.T, url string, args ...string) string {
	t.Helper()
	out, errOut, err := sporeRun(url, args...)
	if err != nil {
		t.Fatalf("spore %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func sporeRun(url string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "spore"), append([]string{"--nats", url}, args...)...)
	cmd.Env = sporeEnv("SPORE_HOME=" + binDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
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
