//go:build !wasip1

package main

import (
	"errors"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

// The actor runs natively: Dispatch calls its handler as the host would,
// and a map stands in for the key-value provider.
func TestCount(t *testing.T) {
	store := map[string]int64{}
	fail := false
	defer actor.SetHost(func(_, ns, op string, payload []byte) ([]byte, error) {
		if ns != spore.ContractKeyValue || op != spore.OpKVIncrement {
			return nil, errors.New("unexpected host call " + ns + " " + op)
		}
		if fail {
			return nil, errors.New("no link for spore:keyvalue")
		}
		var req spore.IncrementRequest
		if err := msgpack.Unmarshal(payload, &req); err != nil {
			return nil, err
		}
		store[req.Key] += req.Delta
		return msgpack.Marshal(store[req.Key])
	})()

	req, _ := msgpack.Marshal(&spore.HTTPRequest{Method: "GET", Path: "/"})
	for i, want := range []string{`{"count": 1}` + "\n", `{"count": 2}` + "\n"} {
		out, err := actor.Dispatch(spore.OpHTTPHandleRequest, req)
		if err != nil {
			t.Fatal(err)
		}
		var resp spore.HTTPResponse
		if err := msgpack.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || string(resp.Body) != want || resp.Header["Content-Type"][0] != "application/json" {
			t.Fatalf("call %d: %d %q %v", i+1, resp.Status, resp.Body, resp.Header)
		}
	}
	fail = true
	if _, err := actor.Dispatch(spore.OpHTTPHandleRequest, req); err == nil {
		t.Fatal("a key-value failure did not fail the request")
	}
}
