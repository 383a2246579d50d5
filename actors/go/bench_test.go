//go:build !wasip1

package actor_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	spore "github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
)

// BenchmarkGuest invokes examples/hello, built for wasip1, in a real host:
// HttpServer.HandleRequest with the request wrk sends in bench/providers.sh,
// and Hello, whose Logging.Write host call a router answers. It measures the
// SDK's per-call path (decode, handler, encode, the runtime) as the host
// sees it, with and without deadlines:
//
//	go test ./actors/go -run '^$' -bench Guest -benchtime 2s
//
// SPORE_BENCH_HELLO names a prebuilt module to load instead, to compare
// build flags.
func BenchmarkGuest(b *testing.B) {
	ctx := context.Background()
	module := helloModule(b)
	router := host.RouterFunc(func(context.Context, *host.Call) ([]byte, error) { return nil, nil })
	req, err := msgpack.Marshal(&spore.HTTPRequest{
		Method: "GET", Path: "/greet", Query: "name=Ada",
		Header: map[string][]string{"Host": {"127.0.0.1:8080"}}, Body: []byte{},
	})
	if err != nil {
		b.Fatal(err)
	}
	ops := []struct {
		name, op string
		payload  []byte
		want     string
	}{
		{"HTTP", spore.OpHTTPHandleRequest, req, "Hello, Ada! You asked for GET /greet."},
		{"Hello", "Hello", []byte("world"), "Hello, world!"},
	}
	for _, cfg := range []struct {
		name string
		cfg  host.Config
	}{
		{"deadline", host.NewConfig()},
		{"nodeadline", host.NewConfig().WithoutDeadlines()},
	} {
		h, err := host.New(ctx, cfg.cfg.WithRouter(router).WithCacheDir(testkit.CacheDir()).WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { h.Close(ctx) })
		a, err := h.Load(ctx, module, host.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range ops {
			b.Run(o.name+"/"+cfg.name, func(b *testing.B) {
				out, err := a.Invoke(ctx, o.op, o.payload)
				if err != nil || !strings.Contains(string(out), o.want) {
					b.Fatalf("%s: %q, %v; want it to contain %q", o.op, out, err, o.want)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := a.Invoke(ctx, o.op, o.payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func helloModule(b *testing.B) []byte {
	var module []byte
	if path := os.Getenv("SPORE_BENCH_HELLO"); path != "" {
		var err error
		if module, err = os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	} else {
		module = testkit.GoActor(b, "examples/hello")
	}
	return testkit.NewSigner(b).Sign(b, module, "hello", spore.ContractLogging)
}
