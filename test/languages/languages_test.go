package languages_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// counterCaps are the claims every counter is signed with.
var counterCaps = []string{spore.ContractHTTPServer, spore.ContractKeyValue}

// TODO(stage 1): the key-value store here is a stand-in until the real
// providers land; TestCounterEndToEnd replaces it.
func TestCounterInHost(t *testing.T) {
	ctx := context.Background()
	s := testkit.NewSigner(t)
	for _, lang := range testkit.Languages {
		t.Run(lang, func(t *testing.T) {
			module := s.Sign(t, testkit.Example(t, lang), "counter-"+lang, counterCaps...)
			var mu sync.Mutex
			counts := map[string]int64{}
			router := host.RouterFunc(func(_ context.Context, c *host.Call) ([]byte, error) {
				var req spore.IncrementRequest
				if c.Operation != spore.OpKVIncrement {
					return nil, fmt.Errorf("unexpected %s", c.Operation)
				}
				if err := msgpack.Unmarshal(c.Payload, &req); err != nil {
					return nil, err
				}
				mu.Lock()
				defer mu.Unlock()
				counts[req.Key] += req.Delta
				return msgpack.Marshal(counts[req.Key])
			})
			linked := true
			links := host.LinkSourceFunc(func(actorID, contract, name string) (spore.Link, bool) {
				return spore.Link{ActorID: actorID, Contract: contract, LinkName: name, Provider: "keyvalue"}, linked
			})
			h, err := host.New(ctx, host.NewConfig().WithRouter(router).WithLinks(links).WithLogger(quiet))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(ctx)
			a, err := h.Load(ctx, module, host.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []struct{ path, want string }{
				{"/a", `{"count":1}`}, {"/a", `{"count":2}`}, {"/b", `{"count":1}`}, {"/a", `{"count":3}`},
			} {
				resp := handle(t, a, step.path)
				if resp.Status != 200 || string(resp.Body) != step.want || resp.Header["Content-Type"][0] != "application/json" {
					t.Fatalf("GET %s: %d %v %q, want 200 application/json %s", step.path, resp.Status, resp.Header, resp.Body, step.want)
				}
			}
			linked = false
			_, err = a.Invoke(ctx, spore.OpHTTPHandleRequest, request(t, "/a"))
			if err == nil || !strings.Contains(err.Error(), "has no link for spore:keyvalue") {
				t.Fatalf("unlinked: err = %v, want the host's denial", err)
			}
		})
	}
}

func request(t testing.TB, path string) []byte {
	t.Helper()
	b, err := msgpack.Marshal(&spore.HTTPRequest{Method: "GET", Path: path, Header: map[string][]string{"Accept": {"*/*"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func handle(t testing.TB, a *host.Actor, path string) spore.HTTPResponse {
	t.Helper()
	out, err := a.Invoke(context.Background(), spore.OpHTTPHandleRequest, request(t, path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	var resp spore.HTTPResponse
	if err := msgpack.Unmarshal(out, &resp); err != nil {
		t.Fatalf("GET %s: response: %v", path, err)
	}
	return resp
}
