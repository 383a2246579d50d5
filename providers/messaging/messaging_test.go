package messaging_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/providers/messaging"
	"github.com/spore-run/spore/providers/providertest"
)

func link(actorID string, values ...string) spore.Link {
	v := map[string]string{}
	for i := 0; i+1 < len(values); i += 2 {
		v[values[i]] = values[i+1]
	}
	return spore.Link{ActorID: actorID, Contract: spore.ContractMessaging, LinkName: "default", Provider: messaging.Name, Values: v}
}

// world is a NATS server, a probe host, and a counter of deliveries.
type world struct {
	nats *providertest.NATS
	nc   *nats.Conn // the test's own connection
	pr   *providertest.Probe
	mu   sync.Mutex
	got  map[string]int // deliveries by actor id
}

func newWorld(t *testing.T) *world {
	w := &world{nats: providertest.StartNATS(t, ""), pr: providertest.NewProbe(t), got: map[string]int{}}
	w.nc = w.nats.Connect(t)
	return w
}

// start starts a provider on its own connection to the world's server.
func (w *world) start(t *testing.T) *messaging.Provider {
	p := &messaging.Provider{}
	env := w.env(t)
	if err := p.Start(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(context.Background()) })
	return p
}

func (w *world) env(t *testing.T) providers.Env {
	env := w.pr.Env()
	env.NATS = w.nats.Connect(t)
	env.Invoke = func(ctx context.Context, id, op string, payload []byte) ([]byte, error) {
		w.mu.Lock()
		w.got[id]++
		w.mu.Unlock()
		return w.pr.Invoke(ctx, id, op, payload)
	}
	return env
}

func (w *world) count(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got[id]
}

func put(t testing.TB, p providers.Provider, l spore.Link) {
	t.Helper()
	if err := p.PutLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	w := newWorld(t)
	actors := []*host.Actor{w.pr.Load(t, "one"), w.pr.Load(t, "two"), w.pr.Load(t, "three")}
	providertest.Run(t, providertest.Suite{
		New:    func() providers.Provider { return &messaging.Provider{} },
		Env:    func(t *testing.T) providers.Env { return w.env(t) },
		Link:   func(_ *testing.T, id string) spore.Link { return link(id, "subscriptions", "test."+id) },
		Actors: []string{actors[0].ID(), actors[1].ID(), actors[2].ID()},
		InEffect: func(_ *testing.T, _ providers.Provider, l spore.Link) error {
			m, err := w.nc.Request(l.Values["subscriptions"], providertest.Answer([]byte("pong")), 2*time.Second)
			if err != nil {
				return err
			}
			if string(m.Data) != "pong" {
				return fmt.Errorf("reply %q", m.Data)
			}
			return nil
		},
		BadValues: []map[string]string{
			{"subscriptions": "spore.>"},
			{"subscriptions": "ok.one,spore.ctl.default.ping"},
			{"subscriptions": ">"},
			{"subscriptions": "*.rpc"},
			{"subscriptions": "$JS.API.>"},
			{"subscriptions": "$SYS.>"},
			{"subscriptions": "_INBOX.>"},
			{"subscriptions": "a..b"},
			{"subscriptions": "a b"},
			{"subscriptions": "a.>.b"},
			{"subscriptions": "a.b*"},
			{"subscriptions": "a|"},
			{"subscriptions": "a|q q"},
			{"url": "http://broker:4222"},
			{"url": "nats://"},
			{"subscription": "typo"},
		},
		Operations: []string{spore.OpMsgPublish, spore.OpMsgRequest},
	})
}

func TestDelivery(t *testing.T) {
	w := newWorld(t)
	p := w.start(t)
	a := w.pr.Load(t, "orders")
	put(t, p, link(a.ID(), "subscriptions", "orders.*, audit|workers"))

	t.Run("request and reply", func(t *testing.T) {
		for _, subject := range []string{"orders.new", "audit"} {
			m, err := w.nc.Request(subject, providertest.Answer([]byte("ok "+subject)), 5*time.Second)
			if err != nil || string(m.Data) != "ok "+subject {
				t.Fatalf("%s: %v, %v", subject, m, err)
			}
		}
	})
	t.Run("the actor sees subject, reply_to and body", func(t *testing.T) {
		inbox := nats.NewInbox()
		sub, _ := w.nc.SubscribeSync(inbox)
		defer sub.Unsubscribe()
		if err := w.nc.PublishRequest("orders.42", inbox, append([]byte("data"), providertest.Reflect...)); err != nil {
			t.Fatal(err)
		}
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// The reply is {"body": the actor's payload}.
		var wrap struct {
			Body []byte `msgpack:"body"`
		}
		var seen spore.Message
		if err := msgpack.Unmarshal(m.Data, &wrap); err != nil {
			t.Fatalf("%v: %q", err, m.Data)
		}
		if err := msgpack.Unmarshal(wrap.Body, &seen); err != nil {
			t.Fatalf("%v: %q", err, wrap.Body)
		}
		if seen.Subject != "orders.42" || seen.ReplyTo != inbox || string(seen.Body) != "data\xff\xff\xff\xff" {
			t.Fatalf("actor saw %+v", seen)
		}
	})
	t.Run("a failing actor sends no reply", func(t *testing.T) {
		if _, err := w.nc.Request("orders.bad", providertest.Fail, 300*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("got %v, want a timeout", err)
		}
		if _, err := w.nc.Request("orders.good", providertest.Answer([]byte("y")), 5*time.Second); err != nil {
			t.Fatalf("after a failure: %v", err)
		}
	})
	t.Run("an empty answer sends no reply", func(t *testing.T) {
		if _, err := w.nc.Request("orders.quiet", providertest.Answer(nil), 300*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("got %v, want a timeout", err)
		}
	})
	t.Run("delete ends the subscriptions", func(t *testing.T) {
		if err := p.DeleteLink(context.Background(), link(a.ID())); err != nil {
			t.Fatal(err)
		}
		testkit.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
			_, err := w.nc.Request("orders.new", providertest.Answer([]byte("x")), time.Second)
			if !errors.Is(err, nats.ErrNoResponders) {
				return fmt.Errorf("after delete: %v, want no responders", err)
			}
			return nil
		})
	})
}

// publishN publishes n messages that ask for no reply and waits until want
// deliveries are counted in total for the actors.
func publishN(t *testing.T, w *world, subject string, n, want int, actors ...string) {
	t.Helper()
	for range n {
		if err := w.nc.Publish(subject, providertest.Answer(nil)); err != nil {
			t.Fatal(err)
		}
	}
	testkit.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		total := 0
		for _, a := range actors {
			total += w.count(a)
		}
		if total != want {
			return fmt.Errorf("%d deliveries, want %d", total, want)
		}
		return nil
	})
}

func TestOncePerLink(t *testing.T) {
	w := newWorld(t)
	a, b := w.pr.Load(t, "a"), w.pr.Load(t, "b")
	// Two copies of the provider (two hosts) apply the same links.
	for range 2 {
		p := w.start(t)
		put(t, p, link(a.ID(), "subscriptions", "events.>"))
		put(t, p, link(b.ID(), "subscriptions", "events.>"))
	}
	publishN(t, w, "events.x", 20, 40, a.ID(), b.ID())
	if w.count(a.ID()) != 20 || w.count(b.ID()) != 20 {
		t.Fatalf("a got %d, b got %d; each link should get each message once", w.count(a.ID()), w.count(b.ID()))
	}
	// A named queue group is shared by the links that join it.
	c, d := w.pr.Load(t, "c"), w.pr.Load(t, "d")
	p := w.start(t)
	put(t, p, link(c.ID(), "subscriptions", "jobs|workers"))
	put(t, p, link(d.ID(), "subscriptions", "jobs|workers"))
	publishN(t, w, "jobs", 40, 40, c.ID(), d.ID())
}

// call has actor a call the provider through the host's gate.
func call(w *world, a *host.Actor, op string, in any) ([]byte, error) {
	payload, err := msgpack.Marshal(in)
	if err != nil {
		return nil, err
	}
	return w.pr.HostCall(context.Background(), a, "", spore.ContractMessaging, op, payload)
}

func TestActorPublishesAndRequests(t *testing.T) {
	w := newWorld(t)
	p := w.start(t)
	w.pr.Serve(p)
	a := w.pr.Load(t, "talker", spore.ContractMessaging)
	l := link(a.ID())
	put(t, p, l)
	w.pr.PutLink(l)

	sub, _ := w.nc.SubscribeSync("out.>")
	echo, _ := w.nc.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("echo: "), m.Data...)) })
	defer echo.Unsubscribe()
	w.nc.Flush()

	if _, err := call(w, a, spore.OpMsgPublish, spore.Message{Subject: "out.news", ReplyTo: "out.replies", Body: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil || m.Subject != "out.news" || m.Reply != "out.replies" || string(m.Data) != "hi" {
		t.Fatalf("published %+v, %v", m, err)
	}
	out, err := call(w, a, spore.OpMsgRequest, spore.RequestMessage{Subject: "svc.echo", Body: []byte("ping"), TimeoutMs: 5000})
	var reply spore.Message
	if err != nil || msgpack.Unmarshal(out, &reply) != nil || string(reply.Body) != "echo: ping" || reply.Subject == "" {
		t.Fatalf("request: %+v, %v", reply, err)
	}

	tests := []struct {
		name string
		op   string
		in   any
		want string
	}{
		{"publish on spore.>", spore.OpMsgPublish, spore.Message{Subject: "spore.ctl.default.ping"}, "reserved for the lattice"},
		{"publish on $JS", spore.OpMsgPublish, spore.Message{Subject: "$JS.API.INFO"}, "reserved for the lattice"},
		{"publish on $KV", spore.OpMsgPublish, spore.Message{Subject: "$KV.spore_default_links.x"}, "reserved for the lattice"},
		{"reply_to on spore.>", spore.OpMsgPublish, spore.Message{Subject: "out.x", ReplyTo: "spore.ctl.default.host.x.stop"}, "reserved for the lattice"},
		{"request on spore.>", spore.OpMsgRequest, spore.RequestMessage{Subject: "spore.rpc.default.x"}, "reserved for the lattice"},
		{"publish with a wildcard", spore.OpMsgPublish, spore.Message{Subject: "out.*"}, "wildcards are for subscriptions"},
		{"no responders", spore.OpMsgRequest, spore.RequestMessage{Subject: "nobody.home"}, "no one answers"},
		{"no reply in time", spore.OpMsgRequest, spore.RequestMessage{Subject: "out.silent", TimeoutMs: 200}, "no reply within 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(w, a, tt.op, tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	// Nothing reached the lattice's subjects.
	if m, err := sub.NextMsg(100 * time.Millisecond); err == nil && m.Subject != "out.silent" {
		t.Fatalf("unexpected message %s", m.Subject)
	}
}

func TestDenied(t *testing.T) {
	w := newWorld(t)
	p := w.start(t)
	for _, tt := range []struct {
		op      string
		payload any
		code    spore.Code
	}{
		{spore.OpMsgPublish, spore.Message{Subject: "spore.evt.default.x"}, spore.CodeDenied},
		{spore.OpMsgPublish, spore.Message{Subject: ""}, spore.CodeBadRequest},
		{spore.OpMsgRequest, spore.RequestMessage{Subject: "$SYS.REQ.SERVER.PING"}, spore.CodeDenied},
	} {
		l := link("MDENIED")
		put(t, p, l)
		b, _ := msgpack.Marshal(tt.payload)
		_, err := p.Handle(context.Background(), &providers.Request{ActorID: "MDENIED", Link: l, Operation: tt.op, Payload: b})
		if spore.CodeOf(err) != tt.code {
			t.Errorf("%s %+v: %v, want code %s", tt.op, tt.payload, err, tt.code)
		}
	}
}

func TestOtherNATS(t *testing.T) {
	w := newWorld(t)
	p := w.start(t)
	broker := providertest.StartNATS(t, "")
	a := w.pr.Load(t, "bridged")
	put(t, p, link(a.ID(), "subscriptions", "ext.in", "url", broker.URL))
	m, err := broker.Connect(t).Request("ext.in", providertest.Answer([]byte("from the broker")), 5*time.Second)
	if err != nil || string(m.Data) != "from the broker" {
		t.Fatalf("%v, %v", m, err)
	}
	// The lattice's server does not see that subscription.
	if _, err := w.nc.Request("ext.in", nil, time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("lattice NATS: %v", err)
	}
	// A URL nobody listens on is refused when the link is put.
	err = p.PutLink(context.Background(), link(a.ID(), "subscriptions", "ext.in", "url", fmt.Sprintf("nats://127.0.0.1:%d", testkit.FreePort(t))))
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("unreachable url: %v", err)
	}
	// The old binding still works.
	if _, err := broker.Connect(t).Request("ext.in", providertest.Answer([]byte("still")), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// FuzzHandle: publishes and requests decoded from arbitrary bytes, on a
// real NATS server.
func FuzzHandle(f *testing.F) {
	n := providertest.StartNATS(f, "")
	p := &messaging.Provider{}
	env := providers.Env{NATS: n.Connect(f), Invoke: func(context.Context, string, string, []byte) ([]byte, error) { return nil, nil }}
	if err := p.Start(context.Background(), env); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { p.Stop(context.Background()) })
	l := link("MFUZZ")
	put(f, p, l)
	pub, _ := msgpack.Marshal(&spore.Message{Subject: "fuzz.x", ReplyTo: "fuzz.r", Body: []byte("b")})
	req, _ := msgpack.Marshal(&spore.RequestMessage{Subject: "fuzz.y", TimeoutMs: 10})
	providertest.FuzzHandle(f, p, l, []string{spore.OpMsgPublish, spore.OpMsgRequest}, pub, req)
}
