package lattice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
	_ "github.com/spore-run/spore/providers/logging"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startHub starts a host with an embedded NATS server on a free port.
func startHub(t testing.TB, labels map[string]string) *lattice.Node {
	t.Helper()
	n, err := lattice.Start(context.Background(), lattice.Options{
		Server: lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: t.TempDir()},
		Labels: labels,
		Log:    quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

// startJoined starts a host that joins url.
func startJoined(t testing.TB, url, latticeID string, labels map[string]string) *lattice.Node {
	t.Helper()
	n, err := lattice.Start(context.Background(), lattice.Options{NATSURL: url, Lattice: latticeID, Labels: labels, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

func connect(t testing.TB, url, latticeID string) *lattice.Client {
	t.Helper()
	c, err := lattice.Connect(context.Background(), lattice.ClientOptions{URL: url, Lattice: latticeID})
	if err != nil {
		t.Fatal(err)
	}
	c.Wait = 500 * time.Millisecond
	t.Cleanup(c.Close)
	return c
}

func push(t testing.TB, c *lattice.Client, module []byte) *lattice.Artifact {
	t.Helper()
	a, err := c.Push(context.Background(), module, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestTwoHostsOneLattice(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, map[string]string{"zone": "cloud"})
	edge := startJoined(t, hub.ClientURL(), "default", map[string]string{"zone": "edge"})
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)

	hosts, err := c.Hosts(ctx)
	if err != nil || len(hosts) != 2 {
		t.Fatalf("hosts = %d, %v; want 2", len(hosts), err)
	}
	echo := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	if echo.Ref != "echo:r1" || !strings.HasPrefix(echo.Digest, "sha256:") {
		t.Fatalf("artifact = %+v", echo)
	}

	// A constraint places the actor on the matching host.
	ai, err := c.StartActor(ctx, lattice.StartActor{Ref: echo.Ref, Instances: 2}, map[string]string{"zone": "edge"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if ai.HostID != edge.ID() || ai.Instances != 2 {
		t.Fatalf("started on %s with %d instances; want edge host %s with 2", ai.HostID, ai.Instances, edge.ID())
	}
	// Callable from anywhere, by name.
	out, err := c.Call(ctx, "echo", "Echo", []byte("across"))
	if err != nil || string(out) != "across" {
		t.Fatalf("call: %q, %v", out, err)
	}
	// No host satisfies an impossible constraint: the reason comes back.
	_, err = c.StartActor(ctx, lattice.StartActor{Ref: echo.Ref}, map[string]string{"zone": "moon"}, "")
	if err == nil || !strings.Contains(err.Error(), "no host satisfies the constraints zone=moon") {
		t.Fatalf("impossible constraint: %v", err)
	}
	// A missing artifact fails with the host's reason.
	_, err = c.StartActor(ctx, lattice.StartActor{Ref: "nothing:1"}, nil, hub.ID())
	if spore.CodeOf(err) != spore.CodeNotFound || !strings.Contains(err.Error(), "spore push") {
		t.Fatalf("missing artifact: %v", err)
	}
}

func TestActorToActorAcrossHosts(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, map[string]string{"role": "a"})
	other := startJoined(t, hub.ClientURL(), "default", map[string]string{"role": "b"})
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	echo := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	caller := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/hostcall.wat"), "caller", spore.ContractActor))
	if _, err := c.StartActor(ctx, lattice.StartActor{Ref: echo.Ref}, nil, hub.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartActor(ctx, lattice.StartActor{Ref: caller.Ref}, nil, other.ID()); err != nil {
		t.Fatal(err)
	}
	// hostcall.wat calls the actor its operation names, with its payload.
	for _, size := range []int{5, 3 << 20, 12 << 20} { // the last two exceed one message
		in := bytes.Repeat([]byte{'z'}, size)
		out, err := c.Call(ctx, "caller", "echo", in)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("%d bytes: got %d bytes, %v", size, len(out), err)
		}
	}
}

func TestQueueGroupSharesLoad(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	second := startJoined(t, hub.ClientURL(), "default", nil)
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	echo := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	for _, n := range []*lattice.Node{hub, second} {
		if _, err := c.StartActor(ctx, lattice.StartActor{Ref: echo.Ref}, nil, n.ID()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		if _, err := c.Call(ctx, "echo", "Echo", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*lattice.Node{hub, second} {
		inv, err := c.Inventory(ctx, n.ID())
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Actors) != 1 || inv.Actors[0].Stats.Invocations < 40 {
			t.Errorf("host %s served %+v of 200 calls; the queue group should share them", n.ID()[:8], inv.Actors)
		}
	}
}

func TestForgedInvocationsAreDropped(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	echo := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	ai, err := c.StartActor(ctx, lattice.StartActor{Ref: echo.Ref}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(hub.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	events, _ := nc.SubscribeSync(c.Subjects().Event(lattice.EvtInvocationRejected))
	otherKey, _ := lattice.NewClusterKey(mustCluster(t))
	subject := c.Subjects().ActorRPC(ai.ID)
	cases := map[string]func() []byte{
		"unsigned": func() []byte {
			b, _ := msgpack.Marshal(&lattice.Invocation{ID: "x", Target: ai.ID, Operation: "Echo", Payload: []byte("hi")})
			return b
		},
		"signed by another key": func() []byte {
			inv := &lattice.Invocation{ID: "x", Target: ai.ID, Operation: "Echo", Payload: []byte("hi")}
			otherKey.Sign(inv)
			b, _ := msgpack.Marshal(inv)
			return b
		},
		"tampered after signing": func() []byte {
			// A real token taken from a signed invocation, then the payload
			// swapped.
			inv := &lattice.Invocation{ID: "x", Target: ai.ID, Operation: "Echo", Payload: []byte("hi"), Issuer: "C", Token: []byte("not a mac")}
			b, _ := msgpack.Marshal(inv)
			return b
		},
		"garbage": func() []byte { return []byte("\xc1\x00garbage") },
	}
	for name, msg := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := nc.Request(subject, msg(), 300*time.Millisecond)
			if !errors.Is(err, nats.ErrTimeout) {
				t.Fatalf("a forged invocation got an answer: %v", err)
			}
			if _, err := events.NextMsg(2 * time.Second); err != nil {
				t.Fatalf("no invocation_rejected event: %v", err)
			}
		})
	}
	// The host still serves signed calls.
	if out, err := c.Call(ctx, "echo", "Echo", []byte("ok")); err != nil || string(out) != "ok" {
		t.Fatalf("after forgeries: %q, %v", out, err)
	}
}

func mustCluster(t *testing.T) nkeys.KeyPair {
	kp, err := nkeys.CreateCluster()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func TestGarbageOnControlSubjects(t *testing.T) {
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	nc := c.Conn()
	subjects := []string{
		c.Subjects().Ctl(lattice.OpAuction),
		c.Subjects().Ctl(lattice.OpLinkPut),
		c.Subjects().Ctl(lattice.OpLinkDel),
	}
	for _, op := range []string{lattice.OpActorStart, lattice.OpActorStop, lattice.OpActorScale, lattice.OpProviderStart,
		lattice.OpProviderStop, lattice.OpLabelsPut, lattice.OpLabelsDel, "no.such.op"} {
		subjects = append(subjects, c.Subjects().HostCtl(hub.ID(), op))
	}
	for _, subj := range subjects {
		for _, body := range [][]byte{nil, []byte("garbage"), []byte(`{"ref": 7}`), []byte(`[1,2,3]`), bytes.Repeat([]byte("{"), 10000)} {
			m, err := nc.Request(subj, body, 2*time.Second)
			if err != nil {
				t.Fatalf("%s %q: no reply: %v", subj, body, err)
			}
			var r lattice.Reply
			if err := json.Unmarshal(m.Data, &r); err != nil || r.Error == nil {
				t.Fatalf("%s %.20q: reply %s, want an error", subj, body, m.Data)
			}
		}
	}
	// The host is alive and well.
	if hosts, err := c.Hosts(context.Background()); err != nil || len(hosts) != 1 {
		t.Fatalf("after garbage: %d hosts, %v", len(hosts), err)
	}
}

func TestLatticesAreSeparate(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	startJoined(t, hub.ClientURL(), "blue", nil)
	startJoined(t, hub.ClientURL(), "blue", nil)
	def := connect(t, hub.ClientURL(), "default")
	blue := connect(t, hub.ClientURL(), "blue")
	s := testkit.NewSigner(t)
	push(t, blue, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	if hosts, _ := def.Hosts(ctx); len(hosts) != 1 {
		t.Errorf("default lattice sees %d hosts, want 1", len(hosts))
	}
	if hosts, _ := blue.Hosts(ctx); len(hosts) != 2 {
		t.Errorf("blue lattice sees %d hosts, want 2", len(hosts))
	}
	if _, err := def.StartActor(ctx, lattice.StartActor{Ref: "echo:r1"}, nil, ""); spore.CodeOf(err) != spore.CodeNotFound {
		t.Errorf("default lattice sees blue's artifact: %v", err)
	}
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := lattice.Options{Server: lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: dir}, Log: quiet}
	n, err := lattice.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := lattice.Connect(ctx, lattice.ClientOptions{URL: n.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	s := testkit.NewSigner(t)
	art, err := c.Push(ctx, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartActor(ctx, lattice.StartActor{Ref: art.Ref}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutLink(ctx, spore.Link{ActorID: "echo", Contract: spore.ContractLogging}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	n.Close(ctx)

	n2, err := lattice.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close(ctx)
	c2 := connect(t, n2.ClientURL(), "default")
	links, err := c2.Links(ctx)
	if err != nil || len(links) != 1 || links[0].Provider != "logging" {
		t.Fatalf("links after restart: %+v, %v", links, err)
	}
	if _, err := c2.StartActor(ctx, lattice.StartActor{Ref: art.Ref}, nil, ""); err != nil {
		t.Fatalf("artifact after restart: %v", err)
	}
	if out, err := c2.Call(ctx, "echo", "Echo", []byte("kept")); err != nil || string(out) != "kept" {
		t.Fatalf("call after restart: %q, %v", out, err)
	}
}

func TestEventsAndScale(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	var mu sync.Mutex
	var types []string
	ectx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Events(ectx, "*", func(e lattice.Event) {
			mu.Lock()
			types = append(types, strings.TrimPrefix(e.Type, lattice.EventTypePrefix))
			mu.Unlock()
		})
	}()
	time.Sleep(50 * time.Millisecond) // let the subscription reach the server
	s := testkit.NewSigner(t)
	art := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	ai, err := c.StartActor(ctx, lattice.StartActor{Ref: art.Ref}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if ai, err = c.ScaleActor(ctx, ai.HostID, "echo", 5); err != nil || ai.Instances != 5 {
		t.Fatalf("scale: %+v, %v", ai, err)
	}
	if err := c.StopActor(ctx, ai.HostID, "echo"); err != nil {
		t.Fatal(err)
	}
	testkit.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		got := strings.Join(types, ",")
		for _, want := range []string{"actor_started", "actor_scaled", "actor_stopped", "host_heartbeat"} {
			if !strings.Contains(got, want) {
				return fmt.Errorf("events %s lack %s", got, want)
			}
		}
		return nil
	})
	cancel()
	<-done
}
