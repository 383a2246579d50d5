package httpserver

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
)

// FuzzResponse feeds arbitrary bytes as an actor's answer: the provider
// writes a response or a 502, never panics.
func FuzzResponse(f *testing.F) {
	good, _ := msgpack.Marshal(&spore.HTTPResponse{Status: 201, Header: map[string][]string{"X-A": {"1", "2"}}, Body: []byte("hi")})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Add([]byte{0x81, 0xa6, 's', 't', 'a', 't', 'u', 's', 0xcd, 0xff, 0xff})
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		w := httptest.NewRecorder()
		writeResponse(w, "MACTOR", b)
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
	})
}

// FuzzLinkValues checks the link value parser with arbitrary values.
func FuzzLinkValues(f *testing.F) {
	f.Add("127.0.0.1:8080", "example.com", "/api/", "10MiB", "30s")
	f.Add(":80", "", "", "", "")
	f.Add("[::1]:8080", "EXAMPLE.com:8080", "//", "1", "1")
	f.Add("x", "a b", "api", "-1", "-1s")
	p := &Provider{}
	f.Fuzz(func(t *testing.T, addr, host, prefix, maxBody, timeout string) {
		l := spore.Link{ActorID: "M", Contract: spore.ContractHTTPServer, Values: map[string]string{
			ValueAddress: addr, ValueHost: host, ValuePathPrefix: prefix, ValueMaxBody: maxBody, ValueTimeout: timeout}}
		r, err := p.parse(l)
		if err != nil {
			return
		}
		if r.prefix == "" || r.prefix[0] != '/' || r.maxBody <= 0 || r.timeout <= 0 {
			t.Fatalf("accepted %+v", r)
		}
		if again, err := normalizeAddress(r.addr); err != nil || again != r.addr {
			t.Fatalf("address %q normalizes to %q, then %q (%v)", addr, r.addr, again, err)
		}
	})
}

// FuzzRequestEncoding checks the hand-written request encoder against
// msgpack's decoder: what an actor decodes is the request as sent.
func FuzzRequestEncoding(f *testing.F) {
	f.Add("GET", "/a b", "x=1&x=2", "X-Multi", "one", "example.test:8080", []byte("body"))
	f.Add("POST", strings.Repeat("/p", 40), strings.Repeat("q", 300), "K", strings.Repeat("v", 70000), "", bytes.Repeat([]byte{1}, 70000))
	f.Fuzz(func(t *testing.T, method, path, query, hk, hv, host string, body []byte) {
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Host: host,
			Header: http.Header{hk: {hv, hv + "2"}, "A": nil}}
		for i := range 20 {
			r.Header[fmt.Sprint("H", i)] = []string{fmt.Sprint(i)}
		}
		var got spore.HTTPRequest
		if err := msgpack.Unmarshal(appendRequest(nil, r, body), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string][]string(r.Header)
		if host != "" && r.Header["Host"] == nil {
			want["Host"] = []string{host}
		}
		if got.Method != method || got.Path != path || got.Query != query || !bytes.Equal(got.Body, body) || len(got.Header) != len(want) {
			t.Fatalf("decoded %+v", got)
		}
		for k, vs := range want {
			if fmt.Sprint(got.Header[k]) != fmt.Sprint(vs) {
				t.Fatalf("header %q: %q, want %q", k, got.Header[k], vs)
			}
		}
	})
}
