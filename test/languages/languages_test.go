package languages_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// cacheDir keeps the code wazero compiles, so the hosts of this package
// compile each module once: a Go actor takes seconds to compile, more under
// -race.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spore-languages-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := testkit.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// hostConfig is the configuration of the hosts the tests start.
func hostConfig() host.Config {
	return host.NewConfig().WithCacheDir(cacheDir).WithLogger(quiet)
}

// counterCaps are the claims every counter is signed with.
var counterCaps = []string{spore.ContractHTTPServer, spore.ContractKeyValue}

// TestCounterInHost runs every language's counter in a host without a
// lattice; KeyValue.Increment goes to the keyvalue provider on JetStream of
// an embedded NATS server. The actor must count per path, answer JSON, and pass the host's
// refusal on when it has no link.
func TestCounterInHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Wasm modules in five languages")
	}
	ctx := context.Background()
	s := testkit.NewSigner(t)
	store := newKV(t)
	for _, lang := range testkit.Languages {
		t.Run(lang, func(t *testing.T) {
			module := s.Sign(t, testkit.Example(t, lang), "counter-"+lang, counterCaps...)
			var linked atomic.Bool
			linked.Store(true)
			links := host.LinkSourceFunc(func(actorID, contract, name string) (spore.Link, bool) {
				l, _ := linkAll.Link(actorID, contract, name)
				return l, linked.Load()
			})
			h, err := host.New(ctx, hostConfig().WithRouter(store).WithLinks(links))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(ctx)
			a, err := h.Load(ctx, module, host.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			store.link(t, a.ID())
			a1, b1 := "/"+lang+"/a", "/"+lang+"/b"
			for _, step := range []struct{ path, want string }{
				{a1, `{"count":1}`}, {a1, `{"count":2}`}, {b1, `{"count":1}`}, {a1, `{"count":3}`},
			} {
				resp := handle(t, a, step.path)
				if resp.Status != 200 || string(resp.Body) != step.want || !isJSON(resp.Header) {
					t.Fatalf("GET %s: %d %v %q, want 200 application/json %s", step.path, resp.Status, resp.Header, resp.Body, step.want)
				}
			}
			linked.Store(false)
			_, err = a.Invoke(ctx, spore.OpHTTPHandleRequest, request(t, a1))
			if err == nil || !strings.Contains(err.Error(), "has no link for spore:keyvalue") {
				t.Fatalf("unlinked: err = %v, want the host's denial", err)
			}
		})
	}
}

func isJSON(h map[string][]string) bool {
	v := h["Content-Type"]
	return len(v) == 1 && v[0] == "application/json"
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
