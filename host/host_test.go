package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/signing"
	"github.com/spore-run/spore/test/actors"
)

func newHost(t *testing.T, cfg host.Config) (*host.Host, *testkit.Buffer) {
	t.Helper()
	logs := &testkit.Buffer{}
	cfg = cfg.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))
	if cfg.CacheDir() == "" {
		cfg = cfg.WithCacheDir(testkit.CacheDir())
	}
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h, logs
}

func TestEchoRoundTrip(t *testing.T) {
	s := testkit.NewSigner(t)
	h, _ := newHost(t, host.NewConfig())
	a, err := h.Load(context.Background(), s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"), host.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 100, 70_000, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			in := bytes.Repeat([]byte{'x'}, size)
			out, err := a.Invoke(context.Background(), "Echo", in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, in) {
				t.Fatalf("echo of %d bytes came back as %d bytes", len(in), len(out))
			}
		})
	}
}

// loadEcho loads the echo actor on a new host.
func loadEcho(t *testing.T, l host.Limits) *host.Actor {
	t.Helper()
	s := testkit.NewSigner(t)
	h, _ := newHost(t, host.NewConfig())
	a, err := h.Load(context.Background(), s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"), l)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// echoFrom calls a's Echo from goroutines goroutines, calls times each
// (a goroutine stops at its first failure), while during runs, and
// reports every failure.
func echoFrom(t *testing.T, a *host.Actor, goroutines, calls int, during func()) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				if err := echoOnce(a, g, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	during()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// echoOnce makes one Echo call, which must answer within 5 s with what it
// was given.
func echoOnce(a *host.Actor, g, i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in := fmt.Appendf(nil, "g%d-i%d", g, i)
	out, err := a.Invoke(ctx, "Echo", in)
	if err == nil && !bytes.Equal(out, in) {
		err = fmt.Errorf("got %q, want %q", out, in)
	}
	return err
}

func TestConcurrentInvocations(t *testing.T) {
	a := loadEcho(t, host.Limits{MaxInstances: 3})
	echoFrom(t, a, 16, 50, func() {})
	if st := a.Stats(); st.Instances > 3 || st.Invocations != 800 {
		t.Errorf("stats = %+v, want at most 3 instances and 800 invocations", st)
	}
}

// TestPoolUnderLoad: more callers than instances, while the pool is
// scaled up and down, each call served within its deadline (none waits on
// an instance left idle where it cannot see it), then Close with calls in
// flight: it returns, and every call ends served or refused.
func TestPoolUnderLoad(t *testing.T) {
	a := loadEcho(t, host.Limits{MaxInstances: 1})
	echoFrom(t, a, 8, 300, func() {
		for _, n := range []int{3, 1, 2, 1, 4, 1} {
			if err := a.Scale(context.Background(), n); err != nil {
				t.Error(err)
			}
		}
	})
	if st := a.Stats(); st.Busy != 0 || st.Instances > 1 || st.Invocations != 8*300 {
		t.Errorf("stats after the calls = %+v, want none busy, at most 1 instance, 2400 invocations", st)
	}

	stop := make(chan struct{})
	ended := make(chan error, 8)
	for g := range 8 {
		go func() {
			var err error
			for i := 0; err == nil; i++ {
				select {
				case <-stop:
					return
				default:
				}
				err = echoOnce(a, g, i)
			}
			ended <- err
		}()
	}
	time.Sleep(20 * time.Millisecond)
	closed := make(chan struct{})
	go func() {
		_ = a.Close(context.Background())
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with calls in flight")
	}
	for range 8 {
		if err := <-ended; !errors.Is(err, host.ErrClosed) {
			t.Errorf("a call after Close: %v, want ErrClosed", err)
		}
	}
	close(stop)
}

// TestMisbehavingGuests shows each kind of bad guest contained: the call fails
// with an error naming the actor and the cause, and the next call is served
// by a fresh instance.
func TestMisbehavingGuests(t *testing.T) {
	tests := []struct {
		name    string
		wat     string
		limits  host.Limits
		payload string
		want    error
		code    spore.Code
		text    string
	}{
		{"loop", "host/testdata/loop.wat", host.Limits{Timeout: 200 * time.Millisecond}, "", host.ErrDeadline, spore.CodeTimeout, "deadline exceeded"},
		// 2^41 calls and no loop: the checks at function entry stop it
		{"call tree", "host/testdata/calltree.wat", host.Limits{Timeout: 200 * time.Millisecond}, strings.Repeat("x", 40), host.ErrDeadline, spore.CodeTimeout, "deadline exceeded"},
		{"fill", "host/testdata/fill.wat", host.Limits{Timeout: 200 * time.Millisecond}, "", host.ErrDeadline, spore.CodeTimeout, "deadline exceeded"},
		{"sleep", "host/testdata/sleep.wat", host.Limits{Timeout: 200 * time.Millisecond}, "", host.ErrDeadline, spore.CodeTimeout, "deadline exceeded"},
		// the work is in the host function, which checks the stop itself
		{"random", "host/testdata/random.wat", host.Limits{Timeout: 200 * time.Millisecond}, "", host.ErrDeadline, spore.CodeTimeout, "deadline exceeded"},
		{"trap", "host/testdata/trap.wat", host.Limits{}, "", host.ErrTrap, spore.CodeActorFailed, "unreachable"},
		{"grow", "host/testdata/grow.wat", host.Limits{MemoryLimit: 4 << 20}, "", host.ErrOutOfMemory, spore.CodeActorFailed, "limit of 4 MiB"},
		{"bad response pointer", "host/testdata/badptr.wat", host.Limits{}, "", host.ErrBadPointer, spore.CodeActorFailed, "__guest_response"},
		{"bad host response pointer", "host/testdata/hostcall.wat", host.Limits{}, "badptr", host.ErrBadPointer, spore.CodeActorFailed, "__host_response"},
	}
	s := testkit.NewSigner(t)
	// The control: an echo actor on the same host keeps answering.
	h, logs := newHost(t, host.NewConfig().WithRouter(host.RouterFunc(func(context.Context, *host.Call) ([]byte, error) {
		return []byte("logged"), nil
	})))
	echo, err := h.Load(context.Background(), s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"), host.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := h.Load(context.Background(), s.Sign(t, testkit.WAT(t, tt.wat), tt.name, spore.ContractLogging), tt.limits)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 { // the second call runs on a replacement instance
				_, err := a.Invoke(context.Background(), "spore:logging", []byte(tt.payload))
				if !errors.Is(err, tt.want) {
					t.Fatalf("call %d: err = %v, want %v", i, err, tt.want)
				}
				if got := spore.CodeOf(err); got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
				for _, want := range []string{fmt.Sprintf("actor %q (%s)", tt.name, a.ID()), tt.text} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				if out, err := echo.Invoke(context.Background(), "Echo", []byte("still here")); err != nil || string(out) != "still here" {
					t.Fatalf("echo after %s: %q, %v", tt.name, out, err)
				}
			}
			if st := a.Stats(); st.Failures != 2 || st.Instances > 1 {
				t.Errorf("stats = %+v, want 2 failures and the broken instances gone", st)
			}
		})
	}
	if !strings.Contains(logs.String(), "replacing it") {
		t.Error("the host log does not report replaced instances")
	}
}

func TestRefusedModules(t *testing.T) {
	s := testkit.NewSigner(t)
	echo := testkit.WAT(t, "host/testdata/echo.wat")
	signed := s.Sign(t, echo, "echo")
	tampered := bytes.Clone(signed)
	// The echo function's body holds "i32.const 65536" (0x41 0x80 0x80 0x04);
	// change it to 65535-ish, so the module still validates.
	i := bytes.Index(tampered, []byte{0x41, 0x80, 0x80, 0x04})
	if i < 0 {
		t.Fatal("test module changed; find another byte to tamper with")
	}
	tampered[i+1] = 0x81
	other := testkit.NewSigner(t)
	expired := func() []byte {
		kp, _ := signing.NewKey(signing.KindActor)
		id, _ := kp.PublicKey()
		return s.SignClaims(t, echo, signing.Claims{ID: id, Name: "old", Revision: 1, Expires: time.Now().Add(-time.Hour)})
	}()
	notYet := func() []byte {
		kp, _ := signing.NewKey(signing.KindActor)
		id, _ := kp.PublicKey()
		return s.SignClaims(t, echo, signing.Claims{ID: id, Name: "future", Revision: 1, NotBefore: time.Now().Add(time.Hour)})
	}()
	noExport := s.Sign(t, testkit.WAT(t, "host/testdata/noexport.wat"), "noexport")

	tests := []struct {
		name   string
		module []byte
		cfg    host.Config
		want   error
	}{
		{"unsigned", echo, host.NewConfig(), signing.ErrUnsigned},
		{"tampered", tampered, host.NewConfig(), signing.ErrHashMismatch},
		{"expired", expired, host.NewConfig(), signing.ErrExpired},
		{"not yet valid", notYet, host.NewConfig(), signing.ErrNotYetValid},
		{"untrusted issuer", signed, host.NewConfig().WithTrustedIssuers(other.IssuerKey()), signing.ErrUntrustedIssuer},
		{"not wasm", []byte("#!/bin/sh\necho hi\n"), host.NewConfig(), signing.ErrNotWasm},
		{"truncated", signed[:len(signed)/2], host.NewConfig(), signing.ErrMalformed},
		{"no __guest_call", noExport, host.NewConfig(), host.ErrNotActor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHost(t, tt.cfg)
			_, err := h.Load(context.Background(), tt.module, host.Limits{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			// The host still serves a good actor afterwards.
			a, err := h.Load(context.Background(), s.Sign(t, echo, "echo"), host.Limits{})
			if tt.name == "untrusted issuer" {
				if !errors.Is(err, signing.ErrUntrustedIssuer) {
					t.Fatalf("untrusted issuer's good actor: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out, err := a.Invoke(context.Background(), "Echo", []byte("ok")); err != nil || string(out) != "ok" {
				t.Fatalf("echo: %q, %v", out, err)
			}
		})
	}
}

func TestGate(t *testing.T) {
	s := testkit.NewSigner(t)
	hc := testkit.WAT(t, "host/testdata/hostcall.wat")
	var routed []*host.Call
	router := host.RouterFunc(func(ctx context.Context, c *host.Call) ([]byte, error) {
		routed = append(routed, c)
		return []byte("from " + c.Namespace), nil
	})
	links := host.LinkSourceFunc(func(actorID, contract, name string) (spore.Link, bool) {
		if contract == spore.ContractKeyValue && name == spore.DefaultLinkName {
			return spore.Link{ActorID: actorID, Contract: contract, LinkName: name, Provider: "keyvalue"}, true
		}
		return spore.Link{}, false
	})
	h, _ := newHost(t, host.NewConfig().WithRouter(router).WithLinks(links))
	ctx := context.Background()
	withKV, err := h.Load(ctx, s.Sign(t, hc, "with-kv", spore.ContractKeyValue, spore.ContractLogging, spore.ContractHTTPClient), host.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := h.Load(ctx, s.Sign(t, hc, "bare"), host.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		actor  *host.Actor
		ns     string
		want   string
		denied string
	}{
		{"claim and link", withKV, spore.ContractKeyValue, "from spore:keyvalue", ""},
		{"claim, no link needed", withKV, spore.ContractLogging, "from spore:logging", ""},
		{"claim but no link", withKV, spore.ContractHTTPClient, "", `has no link for spore:httpclient (link name "default")`},
		{"no claim", bare, spore.ContractKeyValue, "", `actor "bare" (` + bare.ID() + `) has no claim for spore:keyvalue`},
		{"no actor claim", bare, "with-kv", "", "has no claim for spore:actor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routed = nil
			out, err := tt.actor.Invoke(ctx, tt.ns, []byte("p"))
			if tt.denied != "" {
				if err == nil || !strings.Contains(err.Error(), tt.denied) {
					t.Fatalf("err = %v, want a denial containing %q", err, tt.denied)
				}
				if len(routed) != 0 {
					t.Fatalf("a denied call was dispatched: %+v", routed[0])
				}
				return
			}
			if err != nil || string(out) != tt.want {
				t.Fatalf("got %q, %v; want %q", out, err, tt.want)
			}
			if len(routed) != 1 || string(routed[0].Payload) != "p" || routed[0].Binding != "default" {
				t.Fatalf("routed = %+v", routed)
			}
		})
	}
}

func TestLocalActorCall(t *testing.T) {
	s := testkit.NewSigner(t)
	h, _ := newHost(t, host.NewConfig().WithRouter(host.RouterFunc(func(context.Context, *host.Call) ([]byte, error) {
		return nil, errors.New("left the process")
	})))
	ctx := context.Background()
	kp, _ := signing.NewKey(signing.KindActor)
	id, _ := kp.PublicKey()
	echo := s.SignClaims(t, testkit.WAT(t, "host/testdata/echo.wat"), signing.Claims{ID: id, Name: "echo", Revision: 1, CallAlias: "echoer"})
	if _, err := h.Load(ctx, echo, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	caller, err := h.Load(ctx, s.Sign(t, testkit.WAT(t, "host/testdata/hostcall.wat"), "caller", spore.ContractActor), host.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{id, "echoer"} {
		out, err := caller.Invoke(ctx, target, []byte("hi"))
		if err != nil || string(out) != "hi" {
			t.Errorf("call %s: %q, %v", target, out, err)
		}
	}
	if _, err := caller.Invoke(ctx, "nobody", []byte("hi")); err == nil || !strings.Contains(err.Error(), "left the process") {
		t.Errorf("call to an unknown actor should go to the router, got %v", err)
	}
}

func TestUpgrade(t *testing.T) {
	s := testkit.NewSigner(t)
	h, _ := newHost(t, host.NewConfig())
	ctx := context.Background()
	kp, _ := signing.NewKey(signing.KindActor)
	id, _ := kp.PublicKey()
	v1 := s.SignClaims(t, testkit.WAT(t, "host/testdata/trap.wat"), signing.Claims{ID: id, Name: "svc", Revision: 1})
	v2 := s.SignClaims(t, testkit.WAT(t, "host/testdata/echo.wat"), signing.Claims{ID: id, Name: "svc", Revision: 2})
	if _, err := h.Load(ctx, v1, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Load(ctx, v2, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	if out, err := h.Invoke(ctx, "svc", "Echo", []byte("v2")); err != nil || string(out) != "v2" {
		t.Fatalf("after upgrade: %q, %v", out, err)
	}
	if _, err := h.Load(ctx, v1, host.Limits{}); !errors.Is(err, host.ErrOlderRevision) {
		t.Fatalf("downgrade: err = %v, want ErrOlderRevision", err)
	}
	if n := len(h.Actors()); n != 1 {
		t.Fatalf("%d actors, want 1", n)
	}
}

func TestCompilationCacheOnDisk(t *testing.T) {
	dir := t.TempDir()
	s := testkit.NewSigner(t)
	mod := s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo")
	h, _ := newHost(t, host.NewConfig().WithCacheDir(dir))
	if _, err := h.Load(context.Background(), mod, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	h.Close(context.Background())
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("cache dir holds nothing after a load: %v", err)
	}
}

func TestGuestOutputGoesToLog(t *testing.T) {
	s := testkit.NewSigner(t)
	h, logs := newHost(t, host.NewConfig())
	a, err := h.Load(context.Background(), s.Sign(t, testkit.WAT(t, "host/testdata/stdout.wat"), "chatty"), host.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Invoke(context.Background(), "Speak", nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"msg":"hello from wasi"`, `"actor":"chatty"`, `"stream":"stdout"`, `"msg":"hello from console"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// TestGoActor runs the kitchen actor, a Go guest built with the SDK, through
// the same failures as the WAT guests: Go's runtime reports panics and
// out-of-memory on stderr and then traps.
func TestGoActor(t *testing.T) {
	s := testkit.NewSigner(t)
	var logged []string
	var mu sync.Mutex
	router := host.RouterFunc(func(ctx context.Context, c *host.Call) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, string(c.Payload))
		return nil, nil
	})
	h, logs := newHost(t, host.NewConfig().WithRouter(router))
	ctx := context.Background()
	a, err := h.Load(ctx, s.Sign(t, actors.Kitchen(t), "kitchen", spore.ContractLogging),
		host.Limits{MaxInstances: 1, MemoryLimit: 32 << 20, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	call := func(op, payload string) (string, error) {
		out, err := a.Invoke(ctx, op, []byte(payload))
		return string(out), err
	}
	if out, err := call("Echo", "hi"); err != nil || out != "hi" {
		t.Fatalf("Echo: %q, %v", out, err)
	}
	if _, err := call("Fail", ""); !errors.Is(err, host.ErrGuest) || !strings.Contains(err.Error(), "kitchen: asked to fail") {
		t.Fatalf("Fail: %v", err)
	}
	// A guest error keeps the instance: the counter goes on.
	c1, _ := call("Count", "")
	c2, _ := call("Count", "")
	if c1 != "1" || c2 != "2" {
		t.Fatalf("Count = %s, %s; want 1, 2 on one instance", c1, c2)
	}
	for _, tt := range []struct {
		op   string
		want error
		text string
	}{
		{"Panic", host.ErrTrap, "stderr: panic:"},
		{"Grow", host.ErrOutOfMemory, "limit of 32 MiB"},
		{"Loop", host.ErrDeadline, "deadline exceeded (2s)"},
	} {
		t.Run(tt.op, func(t *testing.T) {
			_, err := call(tt.op, "")
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.want, tt.text)
			}
			// A fresh instance: the counter starts again.
			if out, err := call("Count", ""); err != nil || out != "1" {
				t.Fatalf("Count after %s = %q, %v; want 1 from a new instance", tt.op, out, err)
			}
		})
	}
	if _, err := call("Log", "written through the host"); err != nil {
		t.Fatal(err)
	}
	if _, err := call("Stdout", "to stdout"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	gotLog := strings.Join(logged, "|")
	mu.Unlock()
	if !strings.Contains(gotLog, "written through the host") {
		t.Errorf("Logging.Write payloads = %q", gotLog)
	}
	if !strings.Contains(logs.String(), `"msg":"to stdout","actor":"kitchen"`) {
		t.Errorf("guest stdout not in the host log:\n%s", logs)
	}
}

// TestResignUpgrades shows that re-signing the same code with a higher
// revision is an upgrade: the new claims (here, a new capability) apply.
func TestResignUpgrades(t *testing.T) {
	s := testkit.NewSigner(t)
	h, _ := newHost(t, host.NewConfig().WithRouter(host.RouterFunc(func(context.Context, *host.Call) ([]byte, error) {
		return []byte("logged"), nil
	})))
	ctx := context.Background()
	kp, _ := signing.NewKey(signing.KindActor)
	id, _ := kp.PublicKey()
	code := testkit.WAT(t, "host/testdata/hostcall.wat")
	v1 := s.SignClaims(t, code, signing.Claims{ID: id, Name: "svc", Revision: 1})
	v2 := s.SignClaims(t, code, signing.Claims{ID: id, Name: "svc", Revision: 2, Caps: []string{spore.ContractLogging}})
	if _, err := h.Load(ctx, v1, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Invoke(ctx, "svc", spore.ContractLogging, nil); err == nil || !strings.Contains(err.Error(), "has no claim") {
		t.Fatalf("revision 1 has no logging claim, yet: %v", err)
	}
	if _, err := h.Load(ctx, v1, host.Limits{}); err != nil {
		t.Fatalf("loading the same signed module twice: %v", err)
	}
	a, err := h.Load(ctx, v2, host.Limits{})
	if err != nil || a.Claims().Revision != 2 {
		t.Fatalf("upgrade: %v", err)
	}
	if out, err := h.Invoke(ctx, "svc", spore.ContractLogging, nil); err != nil || string(out) != "logged" {
		t.Fatalf("after the upgrade: %q, %v", out, err)
	}
}

// TestStartSectionLoop: a module whose Wasm start section never returns
// does not hang Load: it runs under the watchdog like any guest code, and
// the caller's deadline ends it.
func TestStartSectionLoop(t *testing.T) {
	s := testkit.NewSigner(t)
	h, _ := newHost(t, host.NewConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := h.Load(ctx, s.Sign(t, testkit.WAT(t, "host/testdata/startloop.wat"), "startloop"), host.Limits{})
	// The caller's deadline, not the one-minute floor of start functions.
	if !errors.Is(err, host.ErrDeadline) || strings.Contains(err.Error(), "1m0s") {
		t.Fatalf("err = %v, want %v after the caller's 300ms", err, host.ErrDeadline)
	}
}

// TestCompilerPanic: a module wazero v1.12 validates but panics compiling
// (a typed select of a GC reference type) is refused with an error, with
// deadlines (the instrumentation refuses it) and without (Load recovers).
func TestCompilerPanic(t *testing.T) {
	types := []byte{12}
	for range 12 {
		types = append(types, 0x60, 0x00, 0x01, 0x7f) // () -> (i32)
	}
	body := []byte{0x00, 0x00, 0x1c, 0x01, 0x63, 0x05, 0x1a, 0x41, 0x07, 0x0b} // unreachable; select (result (ref null 5)); drop; i32.const 7
	m := []byte("\x00asm\x01\x00\x00\x00")
	sec := func(id byte, b ...byte) { m = append(append(m, id, byte(len(b))), b...) }
	sec(1, types...)
	sec(3, 0x01, 0x00)
	sec(7, 0x01, 1, 'f', 0x00, 0x00)
	sec(10, append([]byte{0x01, byte(len(body))}, body...)...)
	s := testkit.NewSigner(t)
	for _, cfg := range []host.Config{host.NewConfig(), host.NewConfig().WithoutDeadlines()} {
		h, _ := newHost(t, cfg)
		if _, err := h.Load(context.Background(), s.Sign(t, m, "tselect"), host.Limits{}); err == nil {
			t.Fatal("loaded a module wazero cannot compile")
		}
	}
}

// TestActorByName: a name finds the actor last loaded under it; when that
// one goes, the name finds another that has it, and then none.
func TestActorByName(t *testing.T) {
	s := testkit.NewSigner(t)
	h, _ := newHost(t, host.NewConfig())
	echo := testkit.WAT(t, "host/testdata/echo.wat")
	first, err := h.Load(context.Background(), s.Sign(t, echo, "twin"), host.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.Load(context.Background(), s.Sign(t, echo, "twin"), host.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Actor("twin"); got != second {
		t.Fatalf("Actor(twin) = %v, want the last loaded, %v", got, second)
	}
	if err := h.Unload(context.Background(), second.ID()); err != nil {
		t.Fatal(err)
	}
	if got := h.Actor("twin"); got != first {
		t.Fatalf("after unloading %v, Actor(twin) = %v, want %v", second, got, first)
	}
	if err := h.Unload(context.Background(), "twin"); err != nil {
		t.Fatal(err)
	}
	if got := h.Actor("twin"); got != nil {
		t.Fatalf("Actor(twin) = %v with no twin loaded", got)
	}
}
