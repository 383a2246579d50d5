package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/signing"
)

// sporeBin is the binary under test, built once by TestMain.
var sporeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spore-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sporeBin = filepath.Join(dir, "spore")
	build := exec.Command("go", "build", "-o", sporeBin, "./cmd/spore")
	build.Dir = testkit.Root()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/spore: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is the environment of a spore process: this one's, without SPORE_*
// settings, plus extra.
func env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPORE_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for hosts that must come back on the same port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

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

// upInfo is what 'spore up -o json' prints when the host is ready.
type upInfo struct {
	HostID  string            `json:"host_id"`
	Mode    string            `json:"mode"`
	NATSURL string            `json:"nats_url"`
	LeafURL string            `json:"leaf_url"`
	Labels  map[string]string `json:"labels"`
}

// proc is a running spore process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error // set when done is closed
}

// startProc starts spore with args; the test's cleanup kills it if it still
// runs, and shows its stderr if the test failed.
func startProc(t *testing.T, name, home string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(sporeBin, args...)
	p.cmd.Env = env("SPORE_HOME=" + home)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- %s (spore %s) stderr:\n%s", name, strings.Join(args, " "), tail(p.stderr.String(), 40))
		}
	})
	return p
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to go: 'kill -9'.
func (p *proc) kill() {
	if p.running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// signal sends sig and waits up to 30s for a clean exit.
func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
		t.Fatalf("%s did not exit within 30s of %v", p.name, sig)
	}
	if p.err != nil {
		t.Fatalf("%s exited after %v with %v; stderr:\n%s", p.name, sig, p.err, tail(p.stderr.String(), 20))
	}
}

// host is a 'spore up' process that has said it is ready.
type host struct {
	*proc
	upInfo
}

// startHost runs 'spore up -o json' with args and waits until it is ready.
func startHost(t *testing.T, name, home string, args ...string) *host {
	t.Helper()
	p := startProc(t, name, home, append([]string{"up", "-o", "json"}, args...)...)
	h := &host{proc: p}
	testkit.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if !p.running() {
			t.Fatalf("%s exited before it was ready: %v\n%s", name, p.err, p.stderr)
		}
		return json.Unmarshal([]byte(p.stdout.String()), &h.upInfo)
	})
	return h
}

// cli runs spore commands against a lattice, as a user on this machine
// would, with its own SPORE_HOME.
type cli struct {
	url  string
	home string
}

func newCLI(t *testing.T, url string) *cli { return &cli{url: url, home: t.TempDir()} }

// at returns the same user pointed at another NATS URL.
func (c *cli) at(url string) *cli { return &cli{url: url, home: c.home} }

func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, sporeBin, args...)
	cmd.Env = env("SPORE_HOME="+c.home, "SPORE_NATS="+c.url)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		t.Fatalf("spore %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// fails runs a command that must fail and returns its stderr.
func (c *cli) fails(t *testing.T, args ...string) string {
	t.Helper()
	_, errOut, err := c.run(args...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("spore %s: want a non-zero exit, got %v", strings.Join(args, " "), err)
	}
	return errOut
}

// json runs a command with -o json and decodes its stdout into v.
func (c *cli) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out := c.ok(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("spore %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// hostIDs lists the ids 'spore host ls' shows.
func (c *cli) hostIDs(t *testing.T) []string {
	t.Helper()
	var hosts []struct {
		ID string `json:"id"`
	}
	c.json(t, &hosts, "host", "ls")
	ids := make([]string, len(hosts))
	for i, h := range hosts {
		ids[i] = h.ID
	}
	return ids
}

// actors are the signed test actors, as files a user would push.
type actors struct {
	echoFile, callerFile string
	echoID, callerID     string
}

// writeActors signs echo.wat (answers every operation with its payload; it
// may be linked to an HTTP server) and hostcall.wat (calls the actor its operation names; it has the spore:actor
// claim) into files.
func writeActors(t *testing.T) actors {
	t.Helper()
	dir := t.TempDir()
	s := testkit.NewSigner(t)
	var a actors
	for _, x := range []struct {
		wat, name string
		caps      []string
		file, id  *string
	}{
		{"host/testdata/echo.wat", "echo", []string{"spore:httpserver", "spore:logging"}, &a.echoFile, &a.echoID},
		{"host/testdata/hostcall.wat", "caller", []string{"spore:actor"}, &a.callerFile, &a.callerID},
	} {
		signed := s.Sign(t, testkit.WAT(t, x.wat), x.name, x.caps...)
		c, err := signing.Verify(signed, signing.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		*x.file, *x.id = filepath.Join(dir, x.name+".wasm"), c.ID
		if err := os.WriteFile(*x.file, signed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return a
}
