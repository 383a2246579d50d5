package httpclient_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/providers/httpclient"
	"github.com/spore-run/spore/providers/providertest"
)

func link(actorID string, values ...string) spore.Link {
	v := map[string]string{}
	for i := 0; i+1 < len(values); i += 2 {
		v[values[i]] = values[i+1]
	}
	return spore.Link{ActorID: actorID, Contract: spore.ContractHTTPClient, LinkName: "default", Provider: httpclient.Name, Values: v}
}

// origin is a real HTTP server on loopback that answers what the tests ask
// for, by path.
func origin(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header()["X-Seen"] = r.Header["X-Multi"]
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), b)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 4096)) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func call(p providers.Provider, l spore.Link, req spore.OutboundRequest) (*spore.HTTPResponse, error) {
	payload, _ := msgpack.Marshal(&req)
	out, err := p.Handle(context.Background(), &providers.Request{ActorID: l.ActorID, Link: l, Operation: spore.OpHTTPClientRequest, Payload: payload})
	if err != nil {
		return nil, err
	}
	var resp spore.HTTPResponse
	return &resp, msgpack.Unmarshal(out, &resp)
}

func TestConformance(t *testing.T) {
	srv := origin(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	providertest.Run(t, providertest.Suite{
		New:    func() providers.Provider { return &httpclient.Provider{} },
		Env:    func(*testing.T) providers.Env { return providers.Env{Log: providertest.Quiet} },
		Link:   func(_ *testing.T, id string) spore.Link { return link(id, "allowed_hosts", host) },
		Actors: []string{"actor-one", "actor-two"},
		InEffect: func(_ *testing.T, p providers.Provider, l spore.Link) error {
			resp, err := call(p, l, spore.OutboundRequest{URL: srv.URL + "/echo"})
			if err != nil {
				return err
			}
			if resp.Status != http.StatusTeapot {
				return fmt.Errorf("status %d", resp.Status)
			}
			return nil
		},
		BadValues: []map[string]string{
			{},
			{"allowed_hosts": " , "},
			{"allowed_hosts": "http://example.com"},
			{"allowed_hosts": "example.com/path"},
			{"allowed_hosts": "example.com:https"},
			{"allowed_hosts": "a.*.example.com"},
			{"allowed_hosts": "example.com", "timeout": "0s"},
			{"allowed_hosts": "example.com", "max_body": "huge"},
			{"allowed_hosts": "example.com", "allowed_host": "typo"},
		},
		Operations: []string{spore.OpHTTPClientRequest},
	})
}

func start(t *testing.T) *httpclient.Provider {
	p := &httpclient.Provider{}
	if err := p.Start(context.Background(), providers.Env{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(context.Background()) })
	return p
}

func TestRequests(t *testing.T) {
	srv := origin(t)
	other := origin(t)
	u, _ := url.Parse(srv.URL)
	p := start(t)
	l := link("MACTOR", "allowed_hosts", "example.invalid, "+u.Host, "timeout", "300ms", "max_body", "1KiB")
	if err := p.PutLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}

	t.Run("full mapping", func(t *testing.T) {
		resp, err := call(p, l, spore.OutboundRequest{Method: "PUT", URL: srv.URL + "/echo?a=1&a=2",
			Header: map[string][]string{"x-multi": {"one", "two"}}, Body: []byte("payload")})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 418 || string(resp.Body) != "PUT /echo?a=1&a=2 payload" ||
			fmt.Sprint(resp.Header["X-Seen"]) != "[one two]" || fmt.Sprint(resp.Header["X-Method"]) != "[PUT]" {
			t.Fatalf("got %d %q %v", resp.Status, resp.Body, resp.Header)
		}
	})

	otherHost := strings.TrimPrefix(other.URL, "http://")
	tests := []struct {
		name string
		url  string
		code spore.Code
		want string
	}{
		{"host not allowed", "http://" + otherHost + "/echo", spore.CodeDenied,
			`host "` + otherHost + `" is not in the link's allowed_hosts (example.invalid, ` + u.Host + `): add it to the link value allowed_hosts`},
		{"same host other port", "http://127.0.0.1:1/echo", spore.CodeDenied, "is not in the link's allowed_hosts"},
		{"redirect to an allowed host", srv.URL + "/redirect?to=" + url.QueryEscape(srv.URL+"/echo"), "", ""},
		{"redirect elsewhere", srv.URL + "/redirect?to=" + url.QueryEscape(other.URL+"/echo"), spore.CodeDenied,
			`redirect to host "` + otherHost + `" is not in the link's allowed_hosts`},
		{"timeout", srv.URL + "/slow", spore.CodeTimeout, "within 300ms (the link value timeout)"},
		{"response too large", srv.URL + "/big", spore.CodeBadRequest, "larger than 1024 bytes (the link value max_body)"},
		{"not http", "ftp://" + u.Host + "/x", spore.CodeBadRequest, `only http and https`},
		{"not absolute", "/echo", spore.CodeBadRequest, "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := call(p, l, spore.OutboundRequest{URL: tt.url})
			if tt.want == "" {
				if err != nil || resp.Status != 418 {
					t.Fatalf("%v, %v", resp, err)
				}
				return
			}
			if err == nil || spore.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v (code %s), want %s with %q", err, spore.CodeOf(err), tt.code, tt.want)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	p := start(t)
	l := link("MACTOR", "allowed_hosts", addr)
	if err := p.PutLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	_, err := call(p, l, spore.OutboundRequest{URL: "http://" + addr + "/"})
	if spore.CodeOf(err) != spore.CodeUnavailable || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v", err)
	}
}

func TestAllowedHostRules(t *testing.T) {
	p := start(t)
	tests := []struct {
		allowed string
		url     string
		ok      bool
	}{
		{"api.example.com", "https://api.example.com/x", true},
		{"api.example.com", "http://API.example.com:8080/x", true},
		{"api.example.com", "https://example.com/x", false},
		{"api.example.com:8443", "https://api.example.com:8443/", true},
		{"api.example.com:8443", "https://api.example.com/", false},
		{"api.example.com:443", "https://api.example.com/", true},
		{"*.example.com", "https://a.b.example.com/", true},
		{"*.example.com", "https://example.com/", false},
		{"*.example.com", "https://badexample.com/", false},
		{"[::1]:8080", "http://[::1]:8080/", true},
		{"::1", "http://[::1]:9/", true},
		{"127.0.0.1", "http://127.0.0.1.evil.com/", false},
		{"127.0.0.1", "http://user@127.0.0.2/", false},
	}
	for _, tt := range tests {
		t.Run(tt.allowed+" "+tt.url, func(t *testing.T) {
			l := link("MRULES", "allowed_hosts", tt.allowed, "timeout", "1s")
			if err := p.PutLink(context.Background(), l); err != nil {
				t.Fatal(err)
			}
			_, err := call(p, l, spore.OutboundRequest{URL: tt.url})
			denied := spore.CodeOf(err) == spore.CodeDenied
			if denied == tt.ok {
				t.Fatalf("allowed=%v, err %v", tt.ok, err)
			}
		})
	}
}

// TestThroughActor makes requests from a real Wasm actor through the
// host's gate.
func TestThroughActor(t *testing.T) {
	srv := origin(t)
	p := start(t)
	pr := providertest.NewProbe(t)
	pr.Serve(p)
	a := pr.Load(t, "fetcher", spore.ContractHTTPClient)
	l := link(a.ID(), "allowed_hosts", strings.TrimPrefix(srv.URL, "http://"))
	pr.PutLink(l)
	if err := p.PutLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	in, _ := msgpack.Marshal(&spore.OutboundRequest{URL: srv.URL + "/echo"})
	out, err := pr.HostCall(context.Background(), a, "", spore.ContractHTTPClient, spore.OpHTTPClientRequest, in)
	var resp spore.HTTPResponse
	if err != nil || msgpack.Unmarshal(out, &resp) != nil || resp.Status != 418 {
		t.Fatalf("%v, %v", resp, err)
	}
	in, _ = msgpack.Marshal(&spore.OutboundRequest{URL: "http://example.invalid/"})
	_, err = pr.HostCall(context.Background(), a, "", spore.ContractHTTPClient, spore.OpHTTPClientRequest, in)
	if err == nil || !strings.Contains(err.Error(), `host "example.invalid" is not in the link's allowed_hosts`) {
		t.Fatalf("got %v", err)
	}
}

// FuzzHandle: requests decoded from arbitrary bytes; the only allowed host
// refuses connections, so nothing leaves the machine.
func FuzzHandle(f *testing.F) {
	p := &httpclient.Provider{}
	if err := p.Start(context.Background(), providers.Env{}); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { p.Stop(context.Background()) })
	l := link("MFUZZ", "allowed_hosts", "127.0.0.1:1", "timeout", "1s")
	if err := p.PutLink(context.Background(), l); err != nil {
		f.Fatal(err)
	}
	seed, _ := msgpack.Marshal(&spore.OutboundRequest{Method: "GET", URL: "http://127.0.0.1:1/x", Header: map[string][]string{"A": {"b"}}})
	providertest.FuzzHandle(f, p, l, []string{spore.OpHTTPClientRequest}, seed)
}
