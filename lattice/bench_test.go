//go:build unix

package lattice_test

import (
	"context"
	"flag"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

// benchConcurrency is how many calls are in flight at once, the same for
// the raw floor and for Spore (env SPORE_BENCH_CONCURRENCY).
var benchConcurrency = 16

// benchRounds repeats every contender of BenchmarkRPC, round after round, in
// one process: unlike -count, which repeats one benchmark back to back, it
// interleaves them, so their ratios compare runs taken seconds apart on a
// machine whose load changes. Repeated names get go test's #01, #02 suffixes.
var benchRounds = flag.Int("rounds", 1, "run every contender this many times, interleaved")

func init() {
	if v := os.Getenv("SPORE_BENCH_CONCURRENCY"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			benchConcurrency = n
		}
	}
}

// BenchmarkRPC compares, at the same concurrency on loopback, a raw nats.go
// request/reply between two connections (the floor) with Spore's calls
// across two hosts:
//
//   - raw-nats: a requester connection and a responder connection that
//     echoes in its subscription callback, both on the hub's embedded server.
//   - spore-actor-to-actor: an actor on host A (the hub) calls an echo actor
//     on host B, through A's gate, a signed envelope, NATS, B's token check
//     and B's pool. The caller is invoked in-process on A, so the op also
//     pays a second guest call, the caller's.
//   - spore-client-to-actor: lattice.Client.Call to the echo actor on B,
//     the path of `spore call` and of providers in other processes.
//
// Each op is one round trip with a 64-byte payload. ns/op is the inverse of
// throughput; p50-µs and p99-µs are latency percentiles of the calls; cpu-µs
// is the process's CPU time (user+system, every goroutine: both hosts, the
// NATS server and the callers) per call, which a busy machine disturbs less
// than wall time; reads/op and writes/op count the process's system calls
// (sockets, mostly) per call.
//
//	go test -run '^$' -bench RPC -benchtime 2s -rounds 5 ./lattice/
func BenchmarkRPC(b *testing.B) {
	ctx := context.Background()
	payload := make([]byte, 64)
	hub := startHub(b, nil)

	responder, err := nats.Connect(hub.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(responder.Close)
	if _, err := responder.Subscribe("bench.echo", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	if err := responder.Flush(); err != nil {
		b.Fatal(err)
	}
	requester, err := nats.Connect(hub.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(requester.Close)

	other := startJoined(b, hub.ClientURL(), "default", nil)
	c := connect(b, hub.ClientURL(), "default")
	s := testkit.NewSigner(b)
	echo := push(b, c, s.Sign(b, testkit.WAT(b, "host/testdata/echo.wat"), "echo"))
	caller := push(b, c, s.Sign(b, testkit.WAT(b, "host/testdata/hostcall.wat"), "caller", spore.ContractActor))
	if _, err := c.StartActor(ctx, lattice.StartActor{Ref: echo.Ref, Instances: benchConcurrency}, nil, other.ID()); err != nil {
		b.Fatal(err)
	}
	a, err := c.StartActor(ctx, lattice.StartActor{Ref: caller.Ref, Instances: benchConcurrency}, nil, hub.ID())
	if err != nil {
		b.Fatal(err)
	}

	// An embedded NATS server sets the block profile rate to its own
	// option, 0, when it starts: give it back when -blockprofile asked for
	// one. (-test.blockprofilerate is 1 by default, and recording every
	// blocking event would slow Spore's path more than the floor's.)
	if f := flag.Lookup("test.blockprofile"); f != nil && f.Value.String() != "" {
		if rate, _ := strconv.Atoi(flag.Lookup("test.blockprofilerate").Value.String()); rate > 0 {
			runtime.SetBlockProfileRate(rate)
		}
	}

	contenders := []struct {
		name string
		call func() ([]byte, error)
	}{
		{"raw-nats", func() ([]byte, error) {
			m, err := requester.Request("bench.echo", payload, lattice.DefaultCallTimeout)
			if err != nil {
				return nil, err
			}
			return m.Data, nil
		}},
		{"spore-actor-to-actor", func() ([]byte, error) { return hub.Host().Invoke(ctx, a.ID, "echo", payload) }},
		{"spore-client-to-actor", func() ([]byte, error) { return c.Call(ctx, "echo", "Echo", payload) }},
	}
	// Warm up: every instance made, every subscription and connection in
	// use, before anything is timed.
	for _, ct := range contenders {
		if _, err := measure(64*benchConcurrency, ct.call, len(payload)); err != nil {
			b.Fatalf("%s: %v", ct.name, err)
		}
	}
	for range *benchRounds {
		for _, ct := range contenders {
			b.Run(ct.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0, r0, w0 := cpuTime(), syscalls("syscr"), syscalls("syscw")
				b.ResetTimer()
				lat, err := measure(b.N, ct.call, len(payload))
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
				if r0 >= 0 {
					b.ReportMetric(float64(syscalls("syscr")-r0)/float64(b.N), "reads/op")
					b.ReportMetric(float64(syscalls("syscw")-w0)/float64(b.N), "writes/op")
				}
				b.ReportMetric(percentile(lat, 50), "p50-µs")
				b.ReportMetric(percentile(lat, 99), "p99-µs")
			})
		}
	}
}

// measure makes n calls from benchConcurrency goroutines and returns the
// latency of each, sorted. A call must answer with want bytes.
func measure(n int, call func() ([]byte, error), want int) ([]time.Duration, error) {
	var (
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, n)
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan struct{}, n)
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, n/benchConcurrency+1)
			var err error
			for range next {
				t := time.Now()
				var out []byte
				if out, err = call(); err == nil && len(out) != want {
					err = errShort(len(out))
				}
				if err != nil {
					break
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, local...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	return lat, firstErr
}

type errShort int

func (e errShort) Error() string {
	return "answer of " + strconv.Itoa(int(e)) + " bytes, want the payload back"
}

// percentile of sorted latencies, in microseconds.
func percentile(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[(len(sorted)-1)*p/100]) / 1e3
}

// syscalls is a counter of /proc/self/io (syscr: read system calls, syscw:
// write system calls), or -1 where there is none. Fewer per call means more
// messages shared each socket read or write.
func syscalls(counter string) int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, counter+": "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// cpuTime is the CPU time this process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
