package apps

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
)

// TestAppsSpeed measures, for 3 host processes and 100 actor instances:
// deploy to every instance placed and the actor answering a burst of 100
// concurrent calls, kill -9 of a host to its share moved, and its return to
// the spread restored. bench/apps.sh runs it and puts the numbers in
// docs/benchmarks.md:
//
//	SPORE_APPS_BENCH=3 go test ./test/apps -run TestAppsSpeed -v
//
// SPORE_APPS_BENCH is the number of rounds; SPORE_APPS_BENCH_OUT, if set,
// is a file the Markdown table is written to.
func TestAppsSpeed(t *testing.T) {
	rounds := 0
	fmt.Sscan(os.Getenv("SPORE_APPS_BENCH"), &rounds)
	if rounds <= 0 {
		t.Skip("a benchmark: set SPORE_APPS_BENCH=ROUNDS to run it (bench/apps.sh does)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	signedActor(t, testkit.NewSigner(t), dir, "host/testdata/echo.wat", "echo")
	hub := upHost(t, "h1", 30*time.Second, nil, "--nats-listen", "127.0.0.1:0", "--leaf-listen", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--label", "name=h1")
	join := func(name string) *testkit.Host {
		return upHost(t, name, 30*time.Second, nil, "--nats", hub.NATSURL, "--label", "name="+name)
	}
	join("h2")
	h3 := join("h3")
	c := client(t, hub.NATSURL)
	runSpore(t, hub.NATSURL, "push", dir+"/echo.wasm")
	m, err := lattice.ParseManifest("bench.yaml", []byte("name: bench\nversion: v1\nactors:\n  - {name: echo, ref: echo:r1, instances: 100}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var deployed, answering, healed, restored []time.Duration
	for round := range rounds {
		start := time.Now()
		if _, err := c.DeployApp(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		waitPlacement(t, c, "bench", time.Minute, "h1:34 h2:33 h3:33", "h1:33 h2:34 h3:33", "h1:33 h2:33 h3:34")
		deployed = append(deployed, time.Since(start))
		testkit.CheckFor(t, time.Minute, 10*time.Millisecond, func() error { return burst(ctx, c, 100) })
		answering = append(answering, time.Since(start))

		h3.Kill()
		killed := time.Now()
		waitPlacement(t, c, "bench", time.Minute, "h1:50 h2:50")
		healed = append(healed, time.Since(killed))
		back := time.Now()
		h3 = join("h3")
		waitPlacement(t, c, "bench", time.Minute, "h1:34 h2:33 h3:33", "h1:33 h2:34 h3:33", "h1:33 h2:33 h3:34")
		restored = append(restored, time.Since(back))
		t.Logf("round %d: deployed %s, answering %s, healed %s, restored %s", round+1,
			deployed[round].Round(time.Millisecond), answering[round].Round(time.Millisecond),
			healed[round].Round(time.Millisecond), restored[round].Round(time.Millisecond))

		if err := c.UndeployApp(ctx, "bench"); err != nil {
			t.Fatal(err)
		}
		waitPlacement(t, c, "bench", time.Minute, "")
	}
	table := fmt.Sprintf(`| 3 hosts, 100 instances of one actor (%d rounds) | median | min | max |
|---|---|---|---|
| deploy to every instance placed | %s |
| deploy to a burst of 100 concurrent calls all answered | %s |
| kill -9 of a host to its 33 instances running on the other two | %s |
| the host back (new process) to the spread restored | %s |
`, rounds, stats(deployed), stats(answering), stats(healed), stats(restored))
	t.Log("\n" + table)
	if out := os.Getenv("SPORE_APPS_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// burst makes n concurrent calls and fails if any does.
func burst(ctx context.Context, c *lattice.Client, n int) error {
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := fmt.Sprint(i)
			out, err := c.Call(ctx, "echo", "Echo", []byte(in))
			if err == nil && string(out) != in {
				err = fmt.Errorf("call %d answered %q", i, out)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// stats renders median | min | max of durations, in seconds.
func stats(d []time.Duration) string {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	f := func(x time.Duration) string { return fmt.Sprintf("%.2f s", x.Seconds()) }
	return f(s[len(s)/2]) + " | " + f(s[0]) + " | " + f(s[len(s)-1])
}
