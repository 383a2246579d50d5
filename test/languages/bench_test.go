package languages_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
)

var table = flag.Bool("table", false, "after BenchmarkLanguages, print its results as the markdown table of docs/languages.md")

// best holds each language's results: with -count N, the least time of the
// N runs, the measure least disturbed by whatever else the machine runs.
var best = map[string]*result{}

func least(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}

// result is one language's row of the table.
type result struct {
	size        int
	instantiate time.Duration
	memory      uint32
	invoke      time.Duration
	guest       time.Duration
}

// BenchmarkLanguages measures the counter actor of every language, side by
// side (docs/languages.md):
//
//   - size: the unsigned module as make examples builds it;
//
//   - instantiate: one new instance of the compiled module, with its init
//     export (_initialize or wapc_init) run, as the host does for each new
//     instance (wazero's compiler; the module is compiled once, outside);
//
//   - memory: the instance's linear memory after its first HandleRequest;
//
//   - invoke: HttpServer.HandleRequest through host.Actor.Invoke on a warm
//     instance, KeyValue.Increment served by the keyvalue provider on
//     JetStream of an embedded NATS server;
//
//   - invoke-guest: the same with Increment answered in the process at
//     once, which leaves what the guest and the host's ABI cost.
//
// With -table, each run prints the table of docs/languages.md, each time
// the least of the runs so far:
//
//	go test ./test/languages -run '^$' -bench Languages -benchtime 1s -count 5 -table
func BenchmarkLanguages(b *testing.B) {
	s := testkit.NewSigner(b)
	router := newKV(b)
	for _, lang := range testkit.Languages {
		module := testkit.Example(b, lang)
		r := best[lang]
		if r == nil {
			r = &result{size: len(module)}
			best[lang] = r
		}
		b.Run(lang+"/instantiate", func(b *testing.B) {
			d, memory := benchInstantiate(b, module)
			r.instantiate, r.memory = least(r.instantiate, d), memory
			b.ReportMetric(float64(r.memory)/1024, "KiB-memory")
			b.ReportMetric(float64(r.size)/1024, "KiB-module")
		})
		b.Run(lang+"/invoke", func(b *testing.B) { r.invoke = least(r.invoke, benchInvoke(b, s, lang, module, router)) })
		b.Run(lang+"/invoke-guest", func(b *testing.B) { r.guest = least(r.guest, benchInvoke(b, s, lang, module, answerOne)) })
	}
	if *table {
		fmt.Fprintln(os.Stdout, "\n| | "+strings.Join(testkit.Languages, " | ")+" |")
		fmt.Fprintln(os.Stdout, "|---|"+strings.Repeat("---:|", len(testkit.Languages)))
		row := func(name string, cell func(*result) string) {
			line := "| " + name + " |"
			for _, l := range testkit.Languages {
				line += " " + cell(best[l]) + " |"
			}
			fmt.Fprintln(os.Stdout, line)
		}
		row("module size", func(r *result) string { return kib(r.size) })
		row("instantiation", func(r *result) string { return dur(r.instantiate) })
		row("memory per instance", func(r *result) string { return kib(int(r.memory)) })
		row("HandleRequest latency", func(r *result) string { return dur(r.invoke) })
		row("HandleRequest, guest only", func(r *result) string { return dur(r.guest) })
	}
}

// benchInvoke times HttpServer.HandleRequest through host.Actor.Invoke on
// one warm instance, with host calls going to router.
func benchInvoke(b *testing.B, s *testkit.Signer, lang string, module []byte, router host.Router) time.Duration {
	ctx := context.Background()
	h, err := host.New(ctx, hostConfig().WithRouter(router).WithLinks(linkAll))
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(ctx)
	a, err := h.Load(ctx, s.Sign(b, module, "counter-"+lang, counterCaps...), host.Limits{MaxInstances: 1})
	if err != nil {
		b.Fatal(err)
	}
	if k, ok := router.(*kv); ok {
		k.link(b, a.ID())
	}
	req := request(b, "/bench-"+lang)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Invoke(ctx, spore.OpHTTPHandleRequest, req); err != nil {
			b.Fatal(err)
		}
	}
	return b.Elapsed() / time.Duration(b.N)
}

// answerOne answers every host call with the integer 1.
var answerOne = host.RouterFunc(func(context.Context, *host.Call) ([]byte, error) { return one, nil })

var one, _ = msgpack.Marshal(int64(1))

func dur(d time.Duration) string {
	if d >= time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func kib(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/1024)
}

// benchInstantiate times instantiating module (init included) and returns
// the time per instance and the linear memory of an instance after one
// HandleRequest.
func benchInstantiate(b *testing.B, module []byte) (time.Duration, uint32) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		b.Fatal(err)
	}
	w := &wapc{}
	if err := w.instantiate(ctx, rt); err != nil {
		b.Fatal(err)
	}
	compiled, err := rt.CompileModule(ctx, module)
	if err != nil {
		b.Fatal(err)
	}
	var inits []string
	for _, name := range []string{"_initialize", "_start", "wapc_init"} {
		if _, ok := compiled.ExportedFunctions()[name]; ok {
			inits = append(inits, name)
		}
	}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions(inits...)
	mod, err := rt.InstantiateModule(ctx, compiled, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.call(ctx, mod, spore.OpHTTPHandleRequest, request(b, "/a")); err != nil {
		b.Fatal(err)
	}
	memory := mod.Memory().Size()
	mod.Close(ctx)

	b.ReportAllocs()
	for b.Loop() {
		mod, err := rt.InstantiateModule(ctx, compiled, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		mod.Close(ctx)
		b.StartTimer()
	}
	return b.Elapsed() / time.Duration(b.N), memory
}

// wapc is just enough of the waPC host to make one call for the
// measurement of memory: it answers every host call with the integer 1,
// which is what KeyValue.Increment answers on a new key. The tests and the
// invoke benchmark use the real host.
type wapc struct {
	op, payload, response, hostResp, guestErr []byte
}

func (w *wapc) instantiate(ctx context.Context, rt wazero.Runtime) error {
	i32 := api.ValueTypeI32
	bld := rt.NewHostModuleBuilder("wapc")
	def := func(name string, params, results int, f api.GoModuleFunc) {
		ps := make([]api.ValueType, params)
		rs := make([]api.ValueType, results)
		for i := range ps {
			ps[i] = i32
		}
		for i := range rs {
			rs[i] = i32
		}
		bld.NewFunctionBuilder().WithGoModuleFunction(f, ps, rs).Export(name)
	}
	read := func(m api.Module, ptr, n uint64) []byte {
		b, _ := m.Memory().Read(uint32(ptr), uint32(n))
		return append([]byte(nil), b...)
	}
	def("__guest_request", 2, 0, func(_ context.Context, m api.Module, s []uint64) {
		m.Memory().Write(uint32(s[0]), w.op)
		m.Memory().Write(uint32(s[1]), w.payload)
	})
	def("__guest_response", 2, 0, func(_ context.Context, m api.Module, s []uint64) { w.response = read(m, s[0], s[1]) })
	def("__guest_error", 2, 0, func(_ context.Context, m api.Module, s []uint64) { w.guestErr = read(m, s[0], s[1]) })
	def("__host_call", 8, 1, func(_ context.Context, _ api.Module, s []uint64) { w.hostResp = one; s[0] = 1 })
	def("__host_response_len", 0, 1, func(_ context.Context, _ api.Module, s []uint64) { s[0] = uint64(len(w.hostResp)) })
	def("__host_response", 1, 0, func(_ context.Context, m api.Module, s []uint64) { m.Memory().Write(uint32(s[0]), w.hostResp) })
	def("__host_error_len", 0, 1, func(_ context.Context, _ api.Module, s []uint64) { s[0] = 0 })
	def("__host_error", 1, 0, func(context.Context, api.Module, []uint64) {})
	def("__console_log", 2, 0, func(context.Context, api.Module, []uint64) {})
	_, err := bld.Instantiate(ctx)
	return err
}

func (w *wapc) call(ctx context.Context, mod api.Module, op string, payload []byte) ([]byte, error) {
	w.op, w.payload, w.response, w.guestErr = []byte(op), payload, nil, nil
	res, err := mod.ExportedFunction("__guest_call").Call(ctx, uint64(len(op)), uint64(len(payload)))
	if err != nil {
		return nil, err
	}
	if res[0] != 1 {
		return nil, fmt.Errorf("guest error: %s", w.guestErr)
	}
	return w.response, nil
}
