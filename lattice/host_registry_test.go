package lattice_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore/lattice"
)

// patient gives c an hour to collect scatter answers and returns a context
// that ends long before that: a ping or auction that returns within it, with
// no error, stopped by itself once every host it waits for had answered.
// Nothing here times how fast.
func patient(t *testing.T, c *lattice.Client) context.Context {
	t.Helper()
	c.Wait = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func hostIDs(hosts []lattice.HostInfo) []string {
	out := []string{}
	for _, h := range hosts {
		out = append(out, h.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func auction(constraints map[string]string) func(context.Context, *lattice.Client) ([]lattice.HostInfo, error) {
	return func(ctx context.Context, c *lattice.Client) ([]lattice.HostInfo, error) {
		return c.Auction(ctx, lattice.Auction{Constraints: constraints})
	}
}

func hostLs(ctx context.Context, c *lattice.Client) ([]lattice.HostInfo, error) { return c.Hosts(ctx) }

func TestScatterStopsWhenEveryHostAnswered(t *testing.T) {
	hub := startHub(t, map[string]string{"zone": "cloud"})
	edge := startJoined(t, hub.ClientURL(), "default", map[string]string{"zone": "edge"})
	c := connect(t, hub.ClientURL(), "default")
	ctl, err := lattice.ConnectControl(lattice.ClientOptions{URL: edge.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)

	cases := []struct {
		name string
		c    *lattice.Client
		ask  func(context.Context, *lattice.Client) ([]lattice.HostInfo, error)
		want []string
	}{
		{"host ls", c, hostLs, sorted(hub.ID(), edge.ID())},
		{"host ls without the lattice state", ctl, hostLs, sorted(hub.ID(), edge.ID())},
		{"auction one host wins", c, auction(map[string]string{"zone": "edge"}), []string{edge.ID()}},
		{"auction no host wins", c, auction(map[string]string{"zone": "moon"}), []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hosts, err := tc.ask(patient(t, tc.c), tc.c)
			if err != nil || !slices.Equal(hostIDs(hosts), tc.want) {
				t.Fatalf("got %v, %v; want %v with no error", hostIDs(hosts), err, tc.want)
			}
		})
	}

	// A host whose labels change is due for the auctions its new labels win,
	// and no longer for the others.
	t.Run("labels change", func(t *testing.T) {
		ctx := patient(t, c)
		if _, err := c.SetLabels(ctx, edge.ID(), map[string]string{"zone": "cloud"}, false); err != nil {
			t.Fatal(err)
		}
		for zone, want := range map[string][]string{"cloud": sorted(hub.ID(), edge.ID()), "edge": {}} {
			hosts, err := c.Auction(ctx, lattice.Auction{Constraints: map[string]string{"zone": zone}})
			if err != nil || !slices.Equal(hostIDs(hosts), want) {
				t.Fatalf("zone=%s: got %v, %v; want %v", zone, hostIDs(hosts), err, want)
			}
		}
	})

	// A host that stops leaves the registry: nobody waits for it.
	t.Run("a host stops", func(t *testing.T) {
		edge.Close(context.Background())
		hosts, err := c.Hosts(patient(t, c))
		if want := []string{hub.ID()}; err != nil || !slices.Equal(hostIDs(hosts), want) {
			t.Fatalf("got %v, %v; want %v", hostIDs(hosts), err, want)
		}
	})
}

func TestScatterWithNoHostStopsAtOnce(t *testing.T) {
	hub := startHub(t, nil)
	c, err := lattice.ConnectControl(lattice.ClientOptions{URL: hub.ClientURL(), Lattice: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	// NATS says nothing listens; and no registry for this lattice exists.
	hosts, err := c.Hosts(patient(t, c))
	if err != nil || len(hosts) != 0 {
		t.Fatalf("got %v, %v; want no host and no error", hostIDs(hosts), err)
	}
}

// A host the registry lists is waited for, however much later than the
// others it answers; a host it does not list is kept when it answers in the
// meantime. Both are stand-ins on the ping subject.
func TestScatterWaitsForListedHosts(t *testing.T) {
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	ctx := patient(t, c)
	nc := c.Conn()
	answer := func(id string, after time.Duration) {
		b, _ := json.Marshal(lattice.HostInfo{ID: id})
		reply, _ := json.Marshal(lattice.Reply{Data: b})
		sub, err := nc.Subscribe(c.Subjects().Ctl(lattice.OpPing), func(m *nats.Msg) {
			time.AfterFunc(after, func() { _ = m.Respond(reply) })
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	answer("NSLOW", 300*time.Millisecond)
	answer("NUNLISTED", 0)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, "spore_default_hosts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "NSLOW", []byte(`{"labels": {}}`)); err != nil {
		t.Fatal(err)
	}
	hosts, err := c.Hosts(ctx)
	if want := sorted(hub.ID(), "NSLOW", "NUNLISTED"); err != nil || !slices.Equal(hostIDs(hosts), want) {
		t.Fatalf("got %v, %v; want %v", hostIDs(hosts), err, want)
	}
}
