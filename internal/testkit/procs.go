package testkit

import (
	"bytes"
	"context"
	"encoding/json"
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
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns 127.0.0.1:port for a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}

var (
	sporeMu    sync.Mutex
	sporeDir   string
	sporeBuilt = map[string]error{}
)

// Spore returns the spore command built from this tree with extra build
// environment (GOOS, GOARCH, GOARM), building it on first use: once per
// test binary and environment. Main removes what it built.
func Spore(t testing.TB, env ...string) string {
	t.Helper()
	sporeMu.Lock()
	defer sporeMu.Unlock()
	name := strings.ReplaceAll(strings.Join(append([]string{"spore"}, env...), "-"), "=", "")
	if sporeDir == "" {
		dir, err := os.MkdirTemp("", "spore-bin-")
		if err != nil {
			t.Fatal(err)
		}
		sporeDir = dir
	}
	bin := filepath.Join(sporeDir, name)
	err, done := sporeBuilt[name]
	if !done {
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/spore")
		cmd.Dir = Root()
		cmd.Env = append(os.Environ(), env...)
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = fmt.Errorf("testkit: go build ./cmd/spore %s: %w\n%s", strings.Join(env, " "), berr, out)
		}
		sporeBuilt[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Main runs the tests and removes the binaries Spore built. A package that
// calls Spore has
//
//	func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	sporeMu.Lock()
	defer sporeMu.Unlock()
	if sporeDir != "" {
		os.RemoveAll(sporeDir)
	}
	return code
}

// SporeEnv is this process's environment without its SPORE_ settings, plus
// extra: what a spore process started by a test sees.
func SporeEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPORE_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// RunSpore runs the spore command bin with env and args to its end, for at
// most timeout, and returns its stdout and stderr.
func RunSpore(bin string, env []string, timeout time.Duration, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// Proc is a running process whose output the test reads.
type Proc struct {
	Name           string
	Cmd            *exec.Cmd
	Stdout, Stderr *Buffer
	done           chan struct{}
	err            error // set when done is closed
}

// StartProc starts cmd with its output in buffers; the test's cleanup kills
// it if it still runs, and shows the end of its stderr if the test failed.
func StartProc(t testing.TB, name string, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Name: name, Cmd: cmd, Stdout: &Buffer{}, Stderr: &Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("--- %s (%s) stderr, last lines:\n%s", name, strings.Join(cmd.Args, " "), Tail(p.Stderr.String(), 40))
		}
	})
	return p
}

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Err is how the process ended; nil while it runs.
func (p *Proc) Err() error {
	if p.Running() {
		return nil
	}
	return p.err
}

// Kill sends SIGKILL and waits for the process to go: 'kill -9'.
func (p *Proc) Kill() {
	if p.Running() {
		_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// Signal sends sig and fails the test unless the process then exits
// cleanly within 30s.
func (p *Proc) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	_ = p.Cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.Kill()
		t.Fatalf("%s did not exit within 30s of %v", p.Name, sig)
	}
	if p.err != nil {
		t.Fatalf("%s exited after %v with %v; stderr:\n%s", p.Name, sig, p.err, Tail(p.Stderr.String(), 20))
	}
}

// UpInfo is what 'spore up -o json' prints when the host is ready.
type UpInfo struct {
	HostID  string            `json:"host_id"`
	Mode    string            `json:"mode"`
	NATSURL string            `json:"nats_url"`
	LeafURL string            `json:"leaf_url"`
	Labels  map[string]string `json:"labels"`
}

// Host is a 'spore up -o json' process that has said it is ready.
type Host struct {
	*Proc
	UpInfo
}

// StartHost starts cmd, a 'spore up -o json', and waits up to ready for its
// ready line; it fails the test if the process exits first.
func StartHost(t testing.TB, name string, ready time.Duration, cmd *exec.Cmd) *Host {
	t.Helper()
	h := &Host{Proc: StartProc(t, name, cmd)}
	CheckFor(t, ready, 20*time.Millisecond, func() error {
		if !h.Running() {
			t.Fatalf("%s exited before it was ready: %v\n%s", name, h.err, Tail(h.Stderr.String(), 30))
		}
		return json.Unmarshal(h.Stdout.Bytes(), &h.UpInfo)
	})
	return h
}

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
