package host

import (
	"context"
	"flag"
	"log/slog"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/spore-run/spore/internal/testkit"
)

// benchRounds repeats every sub-benchmark of BenchmarkInstantiate, round
// after round, in one process, as bench/host_test.go's -rounds does: the
// contenders interleave and the Go actor is compiled once.
var benchRounds = flag.Int("rounds", 1, "run every sub-benchmark this many times, interleaved")

// BenchmarkInstantiate makes instances from a compiled module: raw
// runtime.InstantiateModule (with the reactor's _initialize as its start
// function) against newInstance, which adds the capped memory, the guest
// writers, the deadline timer and the init call under the deadline. It is
// here, not in bench/, because newInstance is unexported; bench/run.sh runs
// it and writes the results to docs/benchmarks.md.
//
// Closing the instances is not timed: they are closed in batches, about
// 64 MiB of linear memory at a time, with the timer stopped. The linear-B
// metric is an instance's linear memory once made.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	s := testkit.NewSigner(b)
	modules := []struct {
		name   string
		module []byte
	}{
		{"echo", s.Sign(b, testkit.WAT(b, "host/testdata/echo.wat"), "echo")},
		{"hello-go", s.Sign(b, testkit.GoActor(b, "examples/hello"), "hello", "spore:logging")},
	}
	discard := slog.New(slog.DiscardHandler)

	type contender struct {
		name        string
		instantiate func() (api.Module, func())
	}
	var cases [][]contender // per module
	for _, m := range modules {
		r := wazero.NewRuntime(ctx)
		b.Cleanup(func() { r.Close(ctx) })
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
			b.Fatal(err)
		}
		if err := instantiateWAPC(ctx, r); err != nil {
			b.Fatal(err)
		}
		compiled, err := r.CompileModule(ctx, m.module)
		if err != nil {
			b.Fatal(err)
		}
		var start []string
		if _, ok := compiled.ExportedFunctions()["_initialize"]; ok {
			start = append(start, "_initialize")
		}
		cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions(start...)
		cs := []contender{{"raw/" + m.name, func() (api.Module, func()) {
			mod, err := r.InstantiateModule(ctx, compiled, cfg)
			if err != nil {
				b.Fatal(err)
			}
			return mod, func() { mod.Close(ctx) }
		}}}

		for _, c := range []struct {
			name string
			cfg  Config
		}{
			{"spore", NewConfig()},
			{"spore-nodeadline", NewConfig().WithoutDeadlines()},
		} {
			h, err := New(ctx, c.cfg.WithLogger(discard))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { h.Close(ctx) })
			a, err := h.Load(ctx, m.module, Limits{})
			if err != nil {
				b.Fatal(err)
			}
			cs = append(cs, contender{c.name + "/" + m.name, func() (api.Module, func()) {
				inst, err := newInstance(ctx, a)
				if err != nil {
					b.Fatal(err)
				}
				return inst.mod, inst.close
			}})
		}
		cases = append(cases, cs)
	}

	for range *benchRounds {
		for _, cs := range cases {
			for _, c := range cs {
				b.Run(c.name, func(b *testing.B) { benchInstances(b, c.instantiate) })
			}
		}
	}
}

// benchInstances times instantiate and closes what it made in batches,
// outside the timer.
func benchInstances(b *testing.B, instantiate func() (api.Module, func())) {
	const batchBytes = 64 << 20
	var closers []func()
	var held uint64
	flush := func() {
		for _, c := range closers {
			c()
		}
		closers, held = closers[:0], 0
	}
	defer flush()
	b.ReportAllocs()
	var size uint32
	for b.Loop() {
		mod, closeFn := instantiate()
		closers = append(closers, closeFn)
		size = mod.Memory().Size()
		if held += uint64(size); held >= batchBytes {
			b.StopTimer()
			flush()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(size), "linear-B")
}
