//go:build !wasip1

package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

// The counter runs natively here: Dispatch calls its handler as the host
// would, and a map stands in for the key-value store. test/languages runs
// the Wasm build against the real provider.
func TestCount(t *testing.T) {
	counts := map[string]int64{}
	fail := false
	defer actor.SetHost(func(_, ns, op string, payload []byte) ([]byte, error) {
		var req spore.IncrementRequest
		if ns != spore.ContractKeyValue || op != spore.OpKVIncrement || msgpack.Unmarshal(payload, &req) != nil {
			t.Fatalf("unexpected host call %s %s %x", ns, op, payload)
		}
		if fail {
			return nil, errors.New("no link for spore:keyvalue")
		}
		counts[req.Key] += req.Delta
		return msgpack.Marshal(counts[req.Key])
	})()

	tests := []struct{ path, want string }{
		{"/a", `{"count":1}`},
		{"/a", `{"count":2}`},
		{"/b", `{"count":1}`},
	}
	for _, tt := range tests {
		resp := serve(t, tt.path)
		if resp.Status != 200 || string(resp.Body) != tt.want || resp.Header["Content-Type"][0] != "application/json" {
			t.Fatalf("GET %s: %d %v %s, want 200 application/json %s", tt.path, resp.Status, resp.Header, resp.Body, tt.want)
		}
	}
	fail = true
	in, _ := msgpack.Marshal(&spore.HTTPRequest{Method: "GET", Path: "/a"})
	if _, err := actor.Dispatch(spore.OpHTTPHandleRequest, in); err == nil || !strings.Contains(err.Error(), "no link") {
		t.Fatalf("host error: %v, want it passed on", err)
	}
}

func serve(t *testing.T, path string) spore.HTTPResponse {
	t.Helper()
	in, _ := msgpack.Marshal(&spore.HTTPRequest{Method: "GET", Path: path})
	out, err := actor.Dispatch(spore.OpHTTPHandleRequest, in)
	if err != nil {
		t.Fatal(err)
	}
	var resp spore.HTTPResponse
	if err := msgpack.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}
