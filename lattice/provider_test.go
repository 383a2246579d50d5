package lattice_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
	_ "github.com/spore-run/spore/providers/httpserver"
	_ "github.com/spore-run/spore/providers/keyvalue"
	"github.com/spore-run/spore/providers/providertest"
)

const probeWAT = "providers/providertest/testdata/probe.wat"

var httpClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get fetches url and returns the status and body.
func get(url string) (int, string, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// post sends body to url and returns the status and body.
func post(url string, body []byte) (int, string, error) {
	resp, err := httpClient.Post(url, "application/octet-stream", strings.NewReader(string(body)))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func answer(text string) []byte {
	return providertest.AnswerHTTP(&spore.HTTPResponse{Status: 200, Body: []byte(text)})
}

func startProvider(t *testing.T, c *lattice.Client, hostID, name string) {
	t.Helper()
	if _, err := c.StartProvider(context.Background(), lattice.StartProvider{Name: name}, nil, hostID); err != nil {
		t.Fatal(err)
	}
}

// startProbe pushes and starts a probe actor named name with caps on a
// host, and returns its id.
func startProbe(t *testing.T, c *lattice.Client, s *testkit.Signer, hostID, name string, caps ...string) string {
	t.Helper()
	art := push(t, c, s.Sign(t, testkit.WAT(t, probeWAT), name, caps...))
	ai, err := c.StartActor(context.Background(), lattice.StartActor{Ref: art.Ref}, nil, hostID)
	if err != nil {
		t.Fatal(err)
	}
	return ai.ID
}

func httpLink(actor, addr string, values ...string) spore.Link {
	v := map[string]string{"address": addr}
	for i := 0; i+1 < len(values); i += 2 {
		v[values[i]] = values[i+1]
	}
	return spore.Link{ActorID: actor, Contract: spore.ContractHTTPServer, Values: v}
}

func refused(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s still accepts connections", addr)
	}
	return nil
}

// TestLinkPut covers what 'spore link put' refuses and what a link does,
// with the httpserver provider on the hub.
func TestLinkPut(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	startProvider(t, c, hub.ID(), "httpserver")
	web := startProbe(t, c, s, hub.ID(), "web", spore.ContractHTTPServer)
	other := startProbe(t, c, s, hub.ID(), "other", spore.ContractHTTPServer)
	addr := testkit.FreeAddr(t)

	// Twice is one link, and it serves at once.
	for range 2 {
		l, err := c.PutLink(ctx, httpLink("web", addr))
		if err != nil {
			t.Fatal(err)
		}
		if l.ActorID != web || l.Provider != "httpserver" || l.LinkName != "default" {
			t.Fatalf("stored %+v", l)
		}
	}
	if links, _ := c.Links(ctx); len(links) != 1 {
		t.Fatalf("two puts made %d links", len(links))
	}
	if status, body, err := post("http://"+addr+"/", answer("hi")); err != nil || status != 200 || body != "hi" {
		t.Fatalf("through the link: %d %q %v", status, body, err)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		link spore.Link
		code spore.Code
		want string
	}{
		{"unknown provider", spore.Link{ActorID: "other", Contract: "spore:teleport"}, spore.CodeBadRequest, `"teleport"`},
		{"not a contract", spore.Link{ActorID: "other", Contract: "keyvalue"}, spore.CodeBadRequest, "not a contract id"},
		{"bad values", httpLink("other", "8080"), spore.CodeBadRequest, "want host:port"},
		{"unknown value", spore.Link{ActorID: "other", Contract: spore.ContractHTTPServer, Values: map[string]string{"adress": addr}}, spore.CodeBadRequest, "unknown link value adress"},
		{"port in use", httpLink("other", busy.Addr().String()), spore.CodeUnavailable, "address already in use"},
		{"ambiguous route", httpLink("other", addr), spore.CodeBadRequest, "already routed to actor " + web},
		{"unknown actor", httpLink("nobody", addr), spore.CodeNotFound, `no actor named "nobody"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutLink(ctx, tt.link)
			if err == nil || spore.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v (code %s), want %s with %q", err, spore.CodeOf(err), tt.code, tt.want)
			}
		})
	}
	if links, _ := c.Links(ctx); len(links) != 1 {
		t.Fatalf("refused links were stored: %+v", links)
	}
	// A port-in-use refusal names the host that refused.
	_, err = c.PutLink(ctx, httpLink("other", busy.Addr().String()))
	if !strings.Contains(err.Error(), "host "+hub.ID()[:8]) {
		t.Errorf("refusal %q does not name the host", err)
	}

	// Another route on the same listener is fine.
	if _, err := c.PutLink(ctx, httpLink(other, addr, "path_prefix", "/other")); err != nil {
		t.Fatal(err)
	}
	// Deleting the links closes the listener before the answer.
	for _, a := range []string{"web", "other"} {
		if err := c.DeleteLink(ctx, spore.Link{ActorID: a, Contract: spore.ContractHTTPServer}); err != nil {
			t.Fatal(err)
		}
	}
	if err := refused(addr); err != nil {
		t.Fatal(err)
	}
}

// TestDenials covers the ways a call through a contract is refused.
func TestDenials(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	startProvider(t, c, hub.ID(), "httpserver")
	startProbe(t, c, s, hub.ID(), "noclaim") // no httpserver claim
	startProbe(t, c, s, hub.ID(), "kv", spore.ContractKeyValue)
	addr := testkit.FreeAddr(t)

	t.Run("link for an actor without the claim", func(t *testing.T) {
		_, err := c.PutLink(ctx, httpLink("noclaim", addr))
		if err == nil || !strings.Contains(err.Error(), "has no claim for spore:httpserver: sign it with --cap spore:httpserver") {
			t.Fatalf("got %v", err)
		}
	})
	call := func(op string, payload []byte) error {
		var in []byte
		for _, s := range []string{"", spore.ContractKeyValue, op} {
			in = append(append(in, byte(len(s))), s...)
		}
		_, err := c.Call(ctx, "kv", "HostCall", append(in, payload...))
		return err
	}
	get, _ := msgpack.Marshal("k")
	t.Run("actor without a link", func(t *testing.T) {
		err := call(spore.OpKVGet, get)
		if err == nil || !strings.Contains(err.Error(), "has no link for spore:keyvalue") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("link to a provider that is not running", func(t *testing.T) {
		// Nobody runs keyvalue: the link is stored (it applies when one
		// starts), and a call says what to do.
		if _, err := c.PutLink(ctx, spore.Link{ActorID: "kv", Contract: spore.ContractKeyValue}); err != nil {
			t.Fatal(err)
		}
		err := call(spore.OpKVGet, get)
		if err == nil || !strings.Contains(err.Error(), `provider "keyvalue" for spore:keyvalue (link name "default") is not running`) ||
			!strings.Contains(err.Error(), "spore provider start keyvalue") {
			t.Fatalf("got %v", err)
		}
		startProvider(t, c, hub.ID(), "keyvalue")
		testkit.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error { return call(spore.OpKVGet, get) })
	})
}

// TestProvidersAcrossHosts serves an actor on one host through providers
// on another: HTTP in on the edge, key-value on the hub, the actor on the
// hub, and the reverse.
func TestProvidersAcrossHosts(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, map[string]string{"zone": "cloud"})
	edge := startJoined(t, hub.ClientURL(), "default", map[string]string{"zone": "edge"})
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	startProvider(t, c, edge.ID(), "httpserver")
	startProvider(t, c, hub.ID(), "keyvalue")
	startProbe(t, c, s, hub.ID(), "cloudy", spore.ContractHTTPServer, spore.ContractKeyValue)
	startProbe(t, c, s, edge.ID(), "edgy", spore.ContractKeyValue)
	addr := testkit.FreeAddr(t)
	if _, err := c.PutLink(ctx, httpLink("cloudy", addr)); err != nil {
		t.Fatal(err)
	}
	if status, body, err := post("http://"+addr+"/", answer("from the cloud")); err != nil || status != 200 || body != "from the cloud" {
		t.Fatalf("edge HTTP to a hub actor: %d %q %v", status, body, err)
	}
	// The actor fails: the edge answers 502 with the reason.
	if status, body, _ := post("http://"+addr+"/", providertest.Fail); status != 502 || !strings.Contains(body, "probe: asked to fail") {
		t.Fatalf("failing actor: %d %q", status, body)
	}
	// An actor on the edge uses the hub's key-value provider.
	if _, err := c.PutLink(ctx, spore.Link{ActorID: "edgy", Contract: spore.ContractKeyValue, Values: map[string]string{"bucket": "shared"}}); err != nil {
		t.Fatal(err)
	}
	incr, _ := msgpack.Marshal(spore.IncrementRequest{Key: "n", Delta: 3})
	var in []byte
	for _, s := range []string{"", spore.ContractKeyValue, spore.OpKVIncrement} {
		in = append(append(in, byte(len(s))), s...)
	}
	out, err := c.Call(ctx, "edgy", "HostCall", append(in, incr...))
	var n int64
	if err != nil || msgpack.Unmarshal(out, &n) != nil || n != 3 {
		t.Fatalf("edge actor to hub keyvalue: %x, %v", out, err)
	}
}

// TestProviderProcess runs httpserver as a provider process (what 'spore
// provider run' does) that fronts an actor on the hub.
func TestProviderProcess(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	startProbe(t, c, s, hub.ID(), "web", spore.ContractHTTPServer)
	pp, err := lattice.ServeProvider(ctx, lattice.ProviderProcessOptions{Name: "httpserver", NATSURL: hub.ClientURL(), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close(ctx)

	runners, err := c.Providers(ctx)
	if err != nil || len(runners) != 1 || runners[0].HostID != pp.ID() || runners[0].Annotations["process"] != "standalone" {
		t.Fatalf("registry: %+v, %v", runners, err)
	}
	addr := testkit.FreeAddr(t)
	if _, err := c.PutLink(ctx, httpLink("web", addr)); err != nil {
		t.Fatal(err)
	}
	if status, body, err := post("http://"+addr+"/x", answer("via the process")); err != nil || status != 200 || body != "via the process" {
		t.Fatalf("%d %q %v", status, body, err)
	}
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	_, err = c.PutLink(ctx, spore.Link{ActorID: "web", Contract: spore.ContractHTTPServer, LinkName: "second", Values: map[string]string{"address": busy.Addr().String()}})
	if err == nil || !strings.Contains(err.Error(), "provider process "+pp.ID()[:8]) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("port in use: %v", err)
	}
	pp.Close(ctx)
	if err := refused(addr); err != nil {
		t.Fatal(err)
	}
	if runners, _ := c.Providers(ctx); len(runners) != 0 {
		t.Fatalf("registry after close: %+v", runners)
	}
	// Nothing runs the provider now; the stored link waits for one.
	if _, err := c.PutLink(ctx, httpLink("web", addr, "path_prefix", "/later")); err != nil {
		t.Fatal(err)
	}
	var ne *net.OpError
	if _, _, err := get("http://" + addr + "/later"); !errors.As(err, &ne) {
		t.Fatalf("nothing should listen: %v", err)
	}
}

// TestCounterStack is the counter example through the whole stack: a hub
// with the httpserver and keyvalue providers, the Go counter actor, plain
// HTTP GETs; then the hub restarts and the count goes on.
func TestCounterStack(t *testing.T) {
	ctx := context.Background()
	dir, cache := t.TempDir(), t.TempDir() // the cache spares compiling the actor twice
	opts := lattice.Options{Server: lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: dir}, CacheDir: cache, Log: quiet}
	s := testkit.NewSigner(t)
	module := s.Sign(t, testkit.GoActor(t, "examples/counter"), "counter", spore.ContractHTTPServer, spore.ContractKeyValue)
	addr := testkit.FreeAddr(t)
	count := func(want int) {
		t.Helper()
		status, body, err := get("http://" + addr + "/")
		if err != nil || status != 200 || body != fmt.Sprintf(`{"count":%d}`, want) {
			t.Fatalf("GET: %d %q %v; want count %d", status, body, err, want)
		}
	}
	up := func(first bool) (*lattice.Node, *lattice.Client) {
		n, err := lattice.Start(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		c, err := lattice.Connect(ctx, lattice.ClientOptions{URL: n.ClientURL()})
		if err != nil {
			t.Fatal(err)
		}
		ref := "counter:r1"
		if first {
			ref = push(t, c, module).Ref
		}
		if _, err := c.StartActor(ctx, lattice.StartActor{Ref: ref}, nil, n.ID()); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"keyvalue", "httpserver"} {
			startProvider(t, c, n.ID(), p)
		}
		return n, c
	}
	n, c := up(true)
	for _, l := range []spore.Link{httpLink("counter", addr), {ActorID: "counter", Contract: spore.ContractKeyValue}} {
		if _, err := c.PutLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 3; i++ {
		count(i)
	}
	c.Close()
	n.Close(ctx)
	if err := refused(addr); err != nil {
		t.Fatal(err)
	}

	n, c = up(false) // the links and the bucket come back from the data dir
	defer n.Close(ctx)
	defer c.Close()
	testkit.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		_, _, err := get("http://" + addr + "/")
		return err
	})
	count(5) // the probe above counted 4
}
