package lattice_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

func TestInventoriesAndResolveHost(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	other := startJoined(t, hub.ClientURL(), "default", nil)
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	art := push(t, c, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"))
	if _, err := c.StartActor(ctx, lattice.StartActor{Ref: art.Ref, Instances: 2}, nil, other.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(ctx, "echo", "Echo", []byte("x")); err != nil {
		t.Fatal(err)
	}

	hosts, err := c.Inventories(ctx)
	if err != nil || len(hosts) != 2 {
		t.Fatalf("inventories: %d, %v", len(hosts), err)
	}
	running := lattice.HostsRunningActor(hosts, art.ActorID)
	if len(running) != 1 || running[0].ID != other.ID() {
		t.Fatalf("hosts running echo: %+v", running)
	}
	if st := running[0].Actors[0].Stats; st == nil || st.Invocations != 1 {
		t.Errorf("inventory counters: %+v", st)
	}
	if got := lattice.HostsRunningProvider(hosts, "logging"); len(got) != 0 {
		t.Errorf("hosts running logging: %+v; none started it", got)
	}

	tests := []struct {
		ref  string
		want string
		code spore.Code
	}{
		{other.ID(), other.ID(), ""},
		{other.ID()[:20], other.ID(), ""},
		{"N", "", spore.CodeBadRequest}, // both ids start with N
		{"NOPE", "", spore.CodeNotFound},
		{"", "", spore.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("resolve %q", tt.ref), func(t *testing.T) {
			id, err := c.ResolveHost(ctx, tt.ref)
			if tt.code != "" {
				if spore.CodeOf(err) != tt.code {
					t.Fatalf("got %q, %v; want a %s error", id, err, tt.code)
				}
				return
			}
			if err != nil || id != tt.want {
				t.Fatalf("got %q, %v; want %q", id, err, tt.want)
			}
		})
	}
}

func TestPushActorNamesItBeforeItRuns(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	art, claims, err := c.PushActor(ctx, s.Sign(t, testkit.WAT(t, "host/testdata/echo.wat"), "echo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if claims.ID != art.ActorID {
		t.Fatalf("claims %s, artifact %s", claims.ID, art.ActorID)
	}
	// A link can name the actor before it ever started.
	l, err := c.PutLink(ctx, spore.Link{ActorID: "echo", Contract: spore.ContractLogging})
	if err != nil || l.ActorID != art.ActorID {
		t.Fatalf("link by name after push: %+v, %v", l, err)
	}
	if names := c.ActorNames(ctx); names[art.ActorID] != "echo" {
		t.Errorf("actor names: %v", names)
	}
}

func TestWatchEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	w, err := c.WatchEvents()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// No wait needed: the watch is on the server when WatchEvents returns.
	if _, err := c.SetLabels(ctx, hub.ID(), map[string]string{"k": "v"}, false); err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ShortType() == lattice.EvtLabelsChanged {
			if !strings.Contains(string(ev.Data), `"k":"v"`) || ev.Source != "spore/host/"+hub.ID() {
				t.Fatalf("event: %+v", ev)
			}
			break
		}
	}
	w.Close()
	w.Close() // idempotent
}

func TestConnectControlNeedsNoJetStream(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, map[string]string{"zone": "a"})
	// A bare NATS server with no JetStream: a full client cannot open the
	// lattice state there, a control client can still ping.
	bare, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go bare.Start()
	if !bare.ReadyForConnections(5 * time.Second) {
		t.Fatal("bare server not ready")
	}
	defer bare.Shutdown()
	if _, err := lattice.Connect(ctx, lattice.ClientOptions{URL: bare.ClientURL()}); err == nil {
		t.Fatal("a full client connected to a server without JetStream")
	}
	cc, err := lattice.ConnectControl(lattice.ClientOptions{URL: bare.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	cc.Wait = 300 * time.Millisecond
	if hosts, err := cc.Hosts(ctx); err != nil || len(hosts) != 0 {
		t.Fatalf("hosts on a server without hosts: %v, %v", hosts, err)
	}
	if cc.State() != nil || len(cc.ActorNames(ctx)) != 0 {
		t.Error("a control client has no state")
	}
	cc.Close()

	// On the hub, it drives hosts as a full client does.
	cc, err = lattice.ConnectControl(lattice.ClientOptions{URL: hub.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	hosts, err := cc.Inventories(ctx)
	if err != nil || len(hosts) != 1 || hosts[0].Labels["zone"] != "a" {
		t.Fatalf("inventories: %+v, %v", hosts, err)
	}
	if _, err := lattice.ConnectControl(lattice.ClientOptions{URL: "nats://127.0.0.1:1"}); spore.CodeOf(err) != spore.CodeUnavailable {
		t.Errorf("no server: %v", err)
	}
	if _, err := lattice.ConnectControl(lattice.ClientOptions{URL: hub.ClientURL(), Lattice: "no spaces"}); err == nil {
		t.Error("a bad lattice id was accepted")
	}
}
