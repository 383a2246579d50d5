package httpserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/providers/httpserver"
	"github.com/spore-run/spore/providers/providertest"
)

var client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func link(actorID string, values ...string) spore.Link {
	v := map[string]string{}
	for i := 0; i+1 < len(values); i += 2 {
		v[values[i]] = values[i+1]
	}
	return spore.Link{ActorID: actorID, Contract: spore.ContractHTTPServer, LinkName: "default", Provider: httpserver.Name, Values: v}
}

// post sends body to url and returns the status, the headers and the body.
func post(url string, body []byte, header ...string) (int, http.Header, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1]
		} else {
			req.Header.Add(header[i], header[i+1])
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

func okBody(text string) []byte {
	return providertest.AnswerHTTP(&spore.HTTPResponse{Status: 200, Body: []byte(text)})
}

func TestConformance(t *testing.T) {
	pr := providertest.NewProbe(t)
	actors := []*host.Actor{pr.Load(t, "web-one"), pr.Load(t, "web-two"), pr.Load(t, "web-three")}
	var mu sync.Mutex
	addrs := map[string]string{}
	providertest.Run(t, providertest.Suite{
		New: func() providers.Provider { return &httpserver.Provider{} },
		Env: func(*testing.T) providers.Env { return pr.Env() },
		Link: func(t *testing.T, id string) spore.Link {
			mu.Lock()
			defer mu.Unlock()
			if addrs[id] == "" {
				addrs[id] = testkit.FreeAddr(t)
			}
			return link(id, "address", addrs[id])
		},
		Actors: []string{actors[0].ID(), actors[1].ID(), actors[2].ID()},
		InEffect: func(_ *testing.T, _ providers.Provider, l spore.Link) error {
			status, _, body, err := post("http://"+l.Values["address"]+"/", okBody("ok"))
			if err != nil {
				return err
			}
			if status != 200 || body != "ok" {
				return fmt.Errorf("status %d, body %q", status, body)
			}
			return nil
		},
		BadValues: []map[string]string{
			{},
			{"address": "8080"},
			{"address": "127.0.0.1:http"},
			{"address": "127.0.0.1:0"},
			{"address": "127.0.0.1:70000"},
			{"address": "127.0.0.1:8080", "path_prefix": "api"},
			{"address": "127.0.0.1:8080", "max_body": "lots"},
			{"address": "127.0.0.1:8080", "max_body": "-1"},
			{"address": "127.0.0.1:8080", "timeout": "soon"},
			{"address": "127.0.0.1:8080", "timeout": "-5s"},
			{"address": "127.0.0.1:8080", "host": "a b"},
			{"adress": "127.0.0.1:8080"},
		},
	})
}

// server starts a provider whose actors are probe actors; the returned
// recorder lists the actors each request reached.
type server struct {
	p  *httpserver.Provider
	pr *providertest.Probe
	mu sync.Mutex
	// reached is the actor id of each request, in order.
	reached []string
}

func newServer(t *testing.T) *server {
	s := &server{p: &httpserver.Provider{}, pr: providertest.NewProbe(t)}
	env := s.pr.Env()
	env.Invoke = func(ctx context.Context, id, op string, payload []byte) ([]byte, error) {
		s.mu.Lock()
		s.reached = append(s.reached, id)
		s.mu.Unlock()
		return s.pr.Invoke(ctx, id, op, payload)
	}
	if err := s.p.Start(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.p.Stop(context.Background()) })
	return s
}

func (s *server) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reached) == 0 {
		return ""
	}
	return s.reached[len(s.reached)-1]
}

func (s *server) put(t *testing.T, l spore.Link) {
	t.Helper()
	if err := s.p.PutLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
}

func TestRequestMapping(t *testing.T) {
	s := newServer(t)
	a := s.pr.Load(t, "web")
	addr := testkit.FreeAddr(t)
	s.put(t, link(a.ID(), "address", addr))

	req, _ := http.NewRequest("PATCH", "http://"+addr+"/a/b%20c?x=1&x=2&y", bytes.NewReader(append([]byte("hello"), providertest.Reflect...)))
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Host = "example.test:8080"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The actor's answer has as its body the request it got, in MessagePack.
	b, _ := io.ReadAll(resp.Body)
	var seen spore.HTTPRequest
	if err := msgpack.Unmarshal(b, &seen); err != nil {
		t.Fatalf("status %d: %v (%q)", resp.StatusCode, err, b)
	}
	checks := []struct{ what, got, want string }{
		{"method", seen.Method, "PATCH"},
		{"path", seen.Path, "/a/b c"},
		{"query", seen.Query, "x=1&x=2&y"},
		{"headers", fmt.Sprint(seen.Header["X-Multi"]), "[one two]"},
		{"host", fmt.Sprint(seen.Header["Host"]), "[example.test:8080]"},
		{"body", string(seen.Body), "hello\xff\xff\xff\xff"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
}

func TestResponses(t *testing.T) {
	s := newServer(t)
	a := s.pr.Load(t, "web")
	addr := testkit.FreeAddr(t)
	s.put(t, link(a.ID(), "address", addr, "timeout", "300ms", "max_body", "1KiB"))
	url := "http://" + addr + "/x"
	tests := []struct {
		name       string
		body       []byte
		status     int
		header     string // "Name: value" the answer must have
		bodyHas    string
		spore      string // X-Spore-Error
		maxSeconds float64
	}{
		{"status headers body", providertest.AnswerHTTP(&spore.HTTPResponse{Status: 201,
			Header: map[string][]string{"X-Two": {"a", "b"}, "content-type": {"text/x"}, "Connection": {"upgrade"}, "Bad Name": {"x"}},
			Body:   []byte("made")}), 201, "X-Two: [a b]", "made", "", 5},
		{"zero status is 200", providertest.AnswerHTTP(&spore.HTTPResponse{Body: []byte("fine")}), 200, "Content-Type: [text/x]", "fine", "", 5},
		{"actor fails", providertest.Fail, 502, "Content-Type: [text/plain; charset=utf-8]", "probe: asked to fail", "actor_failed", 5},
		{"actor too slow", providertest.Loop, 504, "", "did not answer within 300ms (the link value timeout)", "timeout", 5},
		{"malformed answer", providertest.Answer([]byte("garbage")), 502, "", "malformed response", "actor_failed", 5},
		{"status out of range", providertest.AnswerHTTP(&spore.HTTPResponse{Status: 42}), 502, "", "status 42", "actor_failed", 5},
		{"body too large", bytes.Repeat([]byte{'x'}, 2048), 413, "", "larger than 1024 bytes (the link value max_body)", "bad_request", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "zero status is 200" {
				tt.header = "" // no Content-Type from the actor: net/http sniffs one
			}
			start := time.Now()
			status, h, body, err := post(url, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.status || !strings.Contains(body, tt.bodyHas) {
				t.Fatalf("status %d body %q; want %d with %q", status, body, tt.status, tt.bodyHas)
			}
			if tt.header != "" {
				name, want, _ := strings.Cut(tt.header, ": ")
				if got := fmt.Sprint(h.Values(name)); got != want {
					t.Errorf("header %s = %s, want %s", name, got, want)
				}
			}
			if h.Get("X-Spore-Error") != tt.spore {
				t.Errorf("X-Spore-Error = %q, want %q", h.Get("X-Spore-Error"), tt.spore)
			}
			if h.Get("Connection") == "upgrade" || h.Get("Bad Name") != "" {
				t.Errorf("hop-by-hop or invalid header passed through: %v", h)
			}
			if d := time.Since(start).Seconds(); d > tt.maxSeconds {
				t.Errorf("took %.1fs", d)
			}
		})
	}
	t.Run("chunked body too large", func(t *testing.T) {
		req, _ := http.NewRequest("POST", url, io.MultiReader(bytes.NewReader(bytes.Repeat([]byte{'x'}, 4096))))
		req.ContentLength = -1
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
}

func TestRouting(t *testing.T) {
	s := newServer(t)
	addr := testkit.FreeAddr(t)
	api, v2, site, root := s.pr.Load(t, "api"), s.pr.Load(t, "v2"), s.pr.Load(t, "site"), s.pr.Load(t, "root")
	s.put(t, link(api.ID(), "address", addr, "path_prefix", "/api/"))
	s.put(t, link(v2.ID(), "address", addr, "path_prefix", "/api/v2"))
	s.put(t, link(site.ID(), "address", addr, "host", "Example.TEST"))
	s.put(t, link(root.ID(), "address", addr))
	tests := []struct {
		host, path string
		want       *host.Actor
	}{
		{"", "/api", api},
		{"", "/api/x", api},
		{"", "/api/v2", v2},
		{"", "/api/v2/y/z", v2},
		{"", "/apix", root},
		{"", "/", root},
		{"example.test", "/other", site},
		{"EXAMPLE.test:8080", "/", site},
		{"example.test", "/api/x", api}, // the longer prefix wins over the host
		{"other.test", "/other", root},
	}
	for _, tt := range tests {
		t.Run(tt.host+tt.path, func(t *testing.T) {
			var hdr []string
			if tt.host != "" {
				hdr = []string{"Host", tt.host}
			}
			status, _, body, err := post("http://"+addr+tt.path, okBody("ok"), hdr...)
			if err != nil || status != 200 {
				t.Fatalf("status %d, %q, %v", status, body, err)
			}
			if got := s.last(); got != tt.want.ID() {
				t.Fatalf("reached %s, want %s", got, tt.want.Claims().Name)
			}
		})
	}

	t.Run("ambiguous route is refused", func(t *testing.T) {
		other := s.pr.Load(t, "other")
		err := s.p.PutLink(context.Background(), link(other.ID(), "address", addr, "path_prefix", "/api"))
		if err == nil || !strings.Contains(err.Error(), "already routed to actor "+api.ID()) {
			t.Fatalf("duplicate route: %v", err)
		}
		// The same route under a host is not ambiguous.
		s.put(t, link(other.ID(), "address", addr, "path_prefix", "/api", "host", "other.test"))
	})
	t.Run("deleting one route keeps the listener", func(t *testing.T) {
		if err := s.p.DeleteLink(context.Background(), link(v2.ID())); err != nil {
			t.Fatal(err)
		}
		if status, _, _, err := post("http://"+addr+"/api/v2/y", okBody("ok")); err != nil || status != 200 || s.last() != api.ID() {
			t.Fatalf("after delete: %d, %v, reached %s", status, err, s.last())
		}
	})
}

func TestNoRoute(t *testing.T) {
	s := newServer(t)
	a := s.pr.Load(t, "web")
	addr := testkit.FreeAddr(t)
	s.put(t, link(a.ID(), "address", addr, "path_prefix", "/only"))
	status, h, body, err := post("http://"+addr+"/elsewhere", nil)
	if err != nil || status != 404 || h.Get("X-Spore-Error") != "not_found" || !strings.Contains(body, "no actor is linked") {
		t.Fatalf("%d %q %v", status, body, err)
	}
}

func TestActorNotRunning(t *testing.T) {
	s := newServer(t)
	addr := testkit.FreeAddr(t)
	s.put(t, link("MNOTRUNNING", "address", addr))
	status, _, body, err := post("http://"+addr+"/", nil)
	if err != nil || status != 503 || !strings.Contains(body, "does not run") {
		t.Fatalf("%d %q %v", status, body, err)
	}
}

func TestPortInUse(t *testing.T) {
	s := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = s.p.PutLink(context.Background(), link("MACTOR", "address", ln.Addr().String()))
	if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("port in use: %v", err)
	}
	// ValidateLink cannot know: the values themselves are fine.
	if err := s.p.ValidateLink(link("MACTOR", "address", ln.Addr().String())); err != nil {
		t.Fatal(err)
	}
}

func TestMoveAndClose(t *testing.T) {
	s := newServer(t)
	a := s.pr.Load(t, "web")
	first, second := testkit.FreeAddr(t), testkit.FreeAddr(t)
	s.put(t, link(a.ID(), "address", first))
	s.put(t, link(a.ID(), "address", second)) // same link, new address: it moves
	refused := func(addr string) error {
		_, _, _, err := post("http://"+addr+"/", nil)
		if err == nil {
			return errors.New(addr + " still answers")
		}
		return nil
	}
	testkit.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error { return refused(first) })
	if status, _, _, err := post("http://"+second+"/", okBody("ok")); err != nil || status != 200 {
		t.Fatalf("new address: %d, %v", status, err)
	}
	if err := s.p.DeleteLink(context.Background(), link(a.ID())); err != nil {
		t.Fatal(err)
	}
	testkit.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error { return refused(second) })
	// The port is free again at once.
	ln, err := net.Listen("tcp", second)
	if err != nil {
		t.Fatalf("port not released: %v", err)
	}
	ln.Close()
}

// TestGarbageOnTheWire sends bytes that are not HTTP; the server answers
// 400 and keeps serving.
func TestGarbageOnTheWire(t *testing.T) {
	s := newServer(t)
	a := s.pr.Load(t, "web")
	addr := testkit.FreeAddr(t)
	s.put(t, link(a.ID(), "address", addr))
	for _, junk := range []string{"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: \x00\r\n\r\n", strings.Repeat("A", 70000) + "\r\n\r\n", "\x16\x03\x01\x00"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(junk))
		reply, _ := io.ReadAll(c)
		c.Close()
		if len(reply) > 0 && !bytes.HasPrefix(reply, []byte("HTTP/1.1 4")) {
			t.Errorf("junk %.20q: reply %.40q", junk, reply)
		}
	}
	if status, _, _, err := post("http://"+addr+"/", okBody("ok")); err != nil || status != 200 {
		t.Fatalf("after junk: %d, %v", status, err)
	}
}
