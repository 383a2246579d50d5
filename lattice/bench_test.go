package lattice_test

import (
	"context"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

// benchConcurrency is how many calls are in flight at once, the same for
// the raw floor and for Spore.
var benchConcurrency = 16

// BenchmarkRPC compares, at the same concurrency on loopback, a raw nats.go
// request/reply between two connections (the floor) with a Spore
// actor-to-actor call across two hosts: an actor on host A calls an echo
// actor on host B, through the gate, a signed envelope, NATS, and B's pool.
// Each op is one round trip with a 64-byte payload. Run with
// `go test -run '^$' -bench BenchmarkRPC ./lattice/`; ns/op is the inverse
// of throughput, and the p50 metric is the median latency.
func BenchmarkRPC(b *testing.B) {
	payload := make([]byte, 64)
	hub := startHub(b, nil)
	b.Run("raw-nats", func(b *testing.B) {
		server, err := nats.Connect(hub.ClientURL())
		if err != nil {
			b.Fatal(err)
		}
		defer server.Close()
		sub, _ := server.Subscribe("bench.echo", func(m *nats.Msg) { m.Respond(m.Data) })
		defer sub.Unsubscribe()
		server.Flush()
		client, err := nats.Connect(hub.ClientURL())
		if err != nil {
			b.Fatal(err)
		}
		defer client.Close()
		run(b, func() error {
			_, err := client.Request("bench.echo", payload, 5*time.Second)
			return err
		})
	})
	// Set up once: b.Run may call its function several times.
	other := startJoined(b, hub.ClientURL(), "default", nil)
	c := connect(b, hub.ClientURL(), "default")
	s := testkit.NewSigner(b)
	echo := push(b, c, s.Sign(b, testkit.WAT(b, "host/testdata/echo.wat"), "echo"))
	caller := push(b, c, s.Sign(b, testkit.WAT(b, "host/testdata/hostcall.wat"), "caller", spore.ContractActor))
	ctx := context.Background()
	if _, err := c.StartActor(ctx, lattice.StartActor{Ref: echo.Ref, Instances: benchConcurrency}, nil, other.ID()); err != nil {
		b.Fatal(err)
	}
	a, err := c.StartActor(ctx, lattice.StartActor{Ref: caller.Ref, Instances: benchConcurrency}, nil, hub.ID())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("spore-client-to-actor", func(b *testing.B) {
		run(b, func() error {
			_, err := c.Call(ctx, "echo", "Echo", payload)
			return err
		})
	})
	b.Run("spore-actor-to-actor", func(b *testing.B) {
		run(b, func() error {
			_, err := hub.Host().Invoke(ctx, a.ID, "echo", payload)
			return err
		})
	})
}

// run performs b.N calls from benchConcurrency goroutines and reports the
// median latency.
func run(b *testing.B, call func() error) {
	b.ReportAllocs()
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	var wg sync.WaitGroup
	next := make(chan struct{}, b.N)
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	b.ResetTimer()
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/benchConcurrency+1)
			for range next {
				t := time.Now()
				if err := call(); err != nil {
					b.Error(err)
					return
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	}
}

func init() {
	if v := os.Getenv("SPORE_BENCH_CONCURRENCY"); v != "" {
		benchConcurrency, _ = strconv.Atoi(v)
	}
}
