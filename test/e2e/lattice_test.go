package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

// TestLatticeOfProcesses runs three hosts on one machine: a hub with the
// embedded NATS server and two that join it with --nats. It places actors by
// label, calls across hosts, kills one host with SIGKILL and shows the
// lattice notice, then stops every host and starts them again to show that
// links and pushed artifacts are kept.
func TestLatticeOfProcesses(t *testing.T) {
	addr, hubData := testkit.FreeAddr(t), t.TempDir()
	hubArgs := []string{"--nats-listen", addr, "--leaf-listen", "127.0.0.1:0", "--data-dir", hubData, "--label", "zone=cloud"}
	hub := startHost(t, "hub", t.TempDir(), hubArgs...)
	if hub.Mode != "embedded" || hub.NATSURL != "nats://"+addr {
		t.Fatalf("hub: %+v", hub.UpInfo)
	}
	edgeHome := t.TempDir()
	edgeArgs := []string{"--nats", hub.NATSURL, "--label", "zone=edge"}
	edge := startHost(t, "edge", edgeHome, edgeArgs...)
	lab := startHost(t, "lab", t.TempDir(), "--nats", hub.NATSURL, "--label", "zone=lab")
	c := newCLI(t, hub.NATSURL)
	a := writeActors(t)

	if ids := c.hostIDs(t); len(ids) != 3 || !slices.Contains(ids, lab.HostID) {
		t.Fatalf("host ls: %v; want the 3 hosts", ids)
	}

	// Push, then start by ref with a constraint: it lands on the edge host.
	var art lattice.Artifact
	c.json(t, &art, "push", a.echoFile)
	if art.Ref != "echo:r1" || art.ActorID != a.echoID || !strings.HasPrefix(art.Digest, "sha256:") {
		t.Fatalf("push: %+v", art)
	}
	var ai lattice.ActorInfo
	c.json(t, &ai, "actor", "start", "echo:r1", "--constraint", "zone=edge")
	if ai.HostID != edge.HostID {
		t.Fatalf("echo started on %s, want the edge host %s", ai.HostID, edge.HostID)
	}
	// A local file is pushed first; this one lands on the lab host.
	c.json(t, &ai, "actor", "start", a.callerFile, "--constraint", "zone=lab")
	if ai.HostID != lab.HostID {
		t.Fatalf("caller started on %s, want the lab host %s", ai.HostID, lab.HostID)
	}
	if out := c.ok(t, "call", "echo", "Echo", "hello"); out != "hello" {
		t.Fatalf("call echo: %q", out)
	}
	// caller (lab) calls echo (edge) across NATS.
	if out := c.ok(t, "call", "caller", a.echoID, "across"); out != "across" {
		t.Fatalf("call caller -> echo: %q", out)
	}
	c.ok(t, "link", "put", "echo", "spore:logging", "level=info")

	t.Run("kill -9 a host", func(t *testing.T) {
		// Watch heartbeats from before the kill to well after it.
		events := startProc(t, "events", c.home, "--nats", hub.NATSURL, "events", "-o", "json",
			"--type", "host_heartbeat", "--type", "host_stopped")
		beats := func() (map[string][]time.Time, []string) {
			seen := map[string][]time.Time{}
			var stopped []string
			for _, line := range strings.Split(strings.TrimSpace(events.Stdout.String()), "\n") {
				var ev lattice.Event
				if json.Unmarshal([]byte(line), &ev) != nil {
					continue
				}
				id := strings.TrimPrefix(ev.Source, "spore/host/")
				if ev.ShortType() == lattice.EvtHostStopped {
					stopped = append(stopped, id)
				}
				seen[id] = append(seen[id], ev.Time)
			}
			return seen, stopped
		}
		testkit.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
			if seen, _ := beats(); len(seen[lab.HostID]) == 0 {
				return fmt.Errorf("no heartbeat from the lab host yet")
			}
			return nil
		})

		killed := time.Now()
		lab.Kill()
		// host ls pings: the dead host is gone at once.
		if ids := c.hostIDs(t); len(ids) != 2 || slices.Contains(ids, lab.HostID) {
			t.Fatalf("host ls right after kill -9: %v", ids)
		}
		// Calls to what it ran fail with a reason; the rest keeps working.
		if errOut := c.fails(t, "call", "caller", a.echoID, "x"); !strings.Contains(errOut, "nothing in lattice") {
			t.Errorf("call to an actor on the dead host: %s", errOut)
		}
		if out := c.ok(t, "call", "echo", "Echo", "still"); out != "still" {
			t.Errorf("call echo after the kill: %q", out)
		}
		// Over two heartbeat periods, the others beat and the dead one is
		// silent: it said no goodbye, and observers that count heartbeats
		// drop it after lattice.HostTTL.
		testkit.CheckFor(t, 15*time.Second, 100*time.Millisecond, func() error {
			seen, _ := beats()
			for _, h := range []*testkit.Host{hub, edge} {
				n := 0
				for _, at := range seen[h.HostID] {
					if at.After(killed) {
						n++
					}
				}
				if n < 2 {
					return fmt.Errorf("%d heartbeats from %s since the kill", n, h.Name)
				}
			}
			return nil
		})
		seen, stopped := beats()
		for _, at := range seen[lab.HostID] {
			if at.After(killed.Add(100 * time.Millisecond)) {
				t.Errorf("a heartbeat from the killed host at %v (killed at %v)", at, killed)
			}
		}
		if len(stopped) > 0 {
			t.Errorf("host_stopped from %v; a killed host cannot say goodbye", stopped)
		}
		events.Signal(t, syscall.SIGINT) // Ctrl-C ends 'spore events' cleanly
		if !hub.Running() || !edge.Running() {
			t.Fatalf("a host crashed after another was killed: hub %v, edge %v", hub.Err(), edge.Err())
		}
	})

	t.Run("restart every host", func(t *testing.T) {
		edge.Signal(t, syscall.SIGTERM)
		hub.Signal(t, syscall.SIGTERM)
		hub = startHost(t, "hub again", t.TempDir(), hubArgs...)
		edge = startHost(t, "edge again", edgeHome, edgeArgs...)

		var links []spore.Link
		c.json(t, &links, "link", "ls")
		if len(links) != 1 || links[0].ActorID != a.echoID || links[0].Values["level"] != "info" {
			t.Fatalf("links after a restart: %+v", links)
		}
		var rows []lattice.ActorInfo
		c.json(t, &rows, "actor", "ls")
		if len(rows) != 0 {
			t.Fatalf("actors after a restart: %+v; hosts start empty", rows)
		}
		// Both pushed artifacts are still there, by name:version.
		c.json(t, &ai, "actor", "start", "echo:r1", "--constraint", "zone=edge")
		if ai.HostID != edge.HostID {
			t.Fatalf("echo restarted on %s, want the edge host", ai.HostID)
		}
		c.ok(t, "actor", "start", "caller:r1", "--host", hub.HostID[:10])
		if out := c.ok(t, "call", "caller", a.echoID, "kept"); out != "kept" {
			t.Fatalf("call after a restart: %q", out)
		}
	})
}

// TestLeafKeepsServing runs an edge host as a NATS leaf node of a hub. The
// edge host serves an actor placed on it, and keeps serving while the hub is
// killed: HTTP through its httpserver provider, calls made on its own NATS,
// and actor to actor calls on the edge host. When the hub comes back, the
// leaf joins again by itself.
//
// What holds during the outage, and what does not: the lattice state (KV,
// artifacts, the cluster key) lives in the hub's JetStream. A client that
// connected before the outage keeps its key and calls actors by id; state-free
// commands (host ls, actor ls, events) work on the leaf's NATS; commands that
// read the state (call, push, link, actor start) fail with a reason until the
// hub is back.
func TestLeafKeepsServing(t *testing.T) {
	addr, leafAddr, hubData := testkit.FreeAddr(t), testkit.FreeAddr(t), t.TempDir()
	hubArgs := []string{"--nats-listen", addr, "--leaf-listen", leafAddr, "--data-dir", hubData, "--label", "zone=cloud"}
	hub := startHost(t, "hub", t.TempDir(), hubArgs...)
	if hub.LeafURL != "nats-leaf://"+leafAddr {
		t.Fatalf("hub leaf URL %q, want nats-leaf://%s", hub.LeafURL, leafAddr)
	}
	leaf := startHost(t, "leaf", t.TempDir(), "--leaf", hub.LeafURL, "--nats-listen", "127.0.0.1:0", "--label", "zone=edge")
	if leaf.Mode != "leaf" || leaf.NATSURL == hub.NATSURL {
		t.Fatalf("leaf: %+v", leaf.UpInfo)
	}
	c := newCLI(t, hub.NATSURL)
	local := c.at(leaf.NATSURL) // the same user, on the edge host's own NATS
	a := writeActors(t)

	for _, cl := range []*cli{c, local} {
		if ids := cl.hostIDs(t); len(ids) != 2 {
			t.Fatalf("host ls at %s: %v; want hub and leaf", cl.url, ids)
		}
	}
	for _, f := range []string{a.echoFile, a.callerFile} {
		var ai lattice.ActorInfo
		c.json(t, &ai, "actor", "start", f, "--constraint", "zone=edge")
		if ai.HostID != leaf.HostID {
			t.Fatalf("%s started on %s, want the leaf host", f, ai.HostID)
		}
	}
	if out := local.ok(t, "call", "echo", "Echo", "local"); out != "local" {
		t.Fatalf("call on the leaf's NATS: %q", out)
	}
	// The edge host serves HTTP: its httpserver provider hands requests to
	// echo, which answers with the request, so the response body is the
	// request body.
	httpAddr := testkit.FreeAddr(t)
	c.ok(t, "provider", "start", "httpserver", "--constraint", "zone=edge")
	c.ok(t, "link", "put", "echo", "spore:httpserver", "address="+httpAddr)
	testkit.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error { return post(httpAddr, "online") })

	// A long-lived client on the edge (a gateway, say) connects before the
	// outage.
	ctx := context.Background()
	gw, err := lattice.Connect(ctx, lattice.ClientOptions{URL: leaf.NATSURL})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()

	hub.Kill()

	call := func(actor, op, payload string) error {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		out, err := gw.Call(cctx, actor, op, []byte(payload))
		if err == nil && string(out) != payload {
			err = fmt.Errorf("%s %s: %q, want %q", actor, op, out, payload)
		}
		return err
	}
	for i := range 20 {
		if err := call(a.echoID, "Echo", fmt.Sprint("offline ", i)); err != nil {
			t.Fatalf("edge actor during the outage: %v", err)
		}
		// caller and echo both run on the edge host: the call never leaves it.
		if err := call(a.callerID, a.echoID, fmt.Sprint("local hop ", i)); err != nil {
			t.Fatalf("actor to actor on the edge host during the outage: %v", err)
		}
	}
	for i := range 20 {
		if err := post(httpAddr, fmt.Sprint("offline ", i)); err != nil {
			t.Fatalf("HTTP on the edge host during the outage: %v", err)
		}
	}
	// The edge host answers for itself on its own NATS...
	if ids := local.hostIDs(t); len(ids) != 1 || ids[0] != leaf.HostID {
		t.Fatalf("host ls on the leaf during the outage: %v", ids)
	}
	var rows []struct {
		Name        string `json:"name"`
		Invocations uint64 `json:"invocations"`
	}
	local.json(t, &rows, "actor", "ls")
	if len(rows) != 2 || rows[1].Name != "echo" || rows[1].Invocations < 62 {
		t.Fatalf("actor ls on the leaf during the outage: %+v", rows)
	}
	// ...but what needs the lattice state says why it cannot.
	if errOut := local.fails(t, "call", "echo", "Echo", "x"); !strings.Contains(errOut, "out of reach") {
		t.Errorf("call through the CLI during the outage: %s", errOut)
	}
	if !leaf.Running() {
		t.Fatalf("the leaf host exited with its hub: %v", leaf.Err())
	}

	// The hub comes back on the same ports and data; the leaf rejoins.
	startHost(t, "hub again", t.TempDir(), hubArgs...)
	testkit.CheckFor(t, 20*time.Second, 250*time.Millisecond, func() error {
		if ids := c.hostIDs(t); len(ids) != 2 {
			return fmt.Errorf("host ls at the hub: %v, waiting for the leaf", ids)
		}
		return nil
	})
	if out := c.ok(t, "call", "echo", "Echo", "rejoined"); out != "rejoined" {
		t.Fatalf("call through the hub to the leaf after the outage: %q", out)
	}
	if out := local.ok(t, "call", "caller", "echo", "by name"); out != "by name" {
		t.Fatalf("call on the leaf after the outage: %q", out)
	}
}

// post sends body to the HTTP address and wants it back with 200.
func post(addr, body string) error {
	resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(got) != body {
		return fmt.Errorf("POST %s %q: %s %q", addr, body, resp.Status, got)
	}
	return nil
}
