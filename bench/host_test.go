package bench_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wapc/wapc-go"
	wapcwazero "github.com/wapc/wapc-go/engines/wazero"

	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/providers/logging"
	"github.com/spore-run/spore/signing"
)

// The payload sizes every invoke benchmark runs with.
var sizes = []struct {
	name string
	n    int
}{
	{"64B", 64},
	{"4KiB", 4 << 10},
}

// echoOp is the operation name sent to the echo actor, which ignores it.
const echoOp = "Echo"

// rounds repeats every sub-benchmark, round after round, in one process:
// unlike -count, which repeats each one back to back, it interleaves the
// contenders, so that their ratio compares runs taken seconds apart on a
// machine whose load changes. Set-up (compiling the Go actor takes seconds)
// happens once per process. Repeated names get go test's #01, #02 suffixes.
var rounds = flag.Int("rounds", 1, "run every sub-benchmark this many times, interleaved")

// BenchmarkInvoke calls the echo actor once per iteration through each
// contender, from one goroutine.
func BenchmarkInvoke(b *testing.B) {
	ctx := context.Background()
	module := signedEcho(b)

	raw := newRaw(b, module).instance(b)
	peer := newWapcGo(b, module)
	spore := newSporeActor(b, host.NewConfig(), module)
	noDeadline := newSporeActor(b, host.NewConfig().WithoutDeadlines(), module)

	contenders := []struct {
		name   string
		invoke func([]byte) ([]byte, error)
	}{
		{"raw", func(p []byte) ([]byte, error) { return raw.invoke(echoOp, p) }},
		{"wapc-go", func(p []byte) ([]byte, error) { return peer.Invoke(ctx, echoOp, p) }},
		{"spore", func(p []byte) ([]byte, error) { return spore.Invoke(ctx, echoOp, p) }},
		{"spore-nodeadline", func(p []byte) ([]byte, error) { return noDeadline.Invoke(ctx, echoOp, p) }},
	}
	for range *rounds {
		for _, size := range sizes {
			payload := bytes.Repeat([]byte{'x'}, size.n)
			for _, c := range contenders {
				b.Run(c.name+"/"+size.name, func(b *testing.B) {
					checkEcho(b, c.invoke, payload)
					b.ReportAllocs()
					for b.Loop() {
						if _, err := c.invoke(payload); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkInvokeParallel calls the echo actor from GOMAXPROCS goroutines.
// Raw wazero gets one instance per goroutine; Spore shares one actor, whose
// pool hands each call an instance.
func BenchmarkInvokeParallel(b *testing.B) {
	ctx := context.Background()
	module := signedEcho(b)

	raw := newRaw(b, module)
	free := make(chan *rawInstance, runtime.GOMAXPROCS(0))
	for range cap(free) {
		free <- raw.instance(b)
	}
	rawInvoke := func(pb *testing.PB, payload []byte) error {
		inst := <-free
		defer func() { free <- inst }()
		for pb.Next() {
			if _, err := inst.invoke(echoOp, payload); err != nil {
				return err
			}
		}
		return nil
	}
	sporeInvoke := func(a *host.Actor) func(*testing.PB, []byte) error {
		return func(pb *testing.PB, payload []byte) error {
			for pb.Next() {
				if _, err := a.Invoke(ctx, echoOp, payload); err != nil {
					return err
				}
			}
			return nil
		}
	}
	contenders := []struct {
		name string
		run  func(*testing.PB, []byte) error
	}{
		{"raw", rawInvoke},
		{"spore", sporeInvoke(newSporeActor(b, host.NewConfig(), module))},
		{"spore-nodeadline", sporeInvoke(newSporeActor(b, host.NewConfig().WithoutDeadlines(), module))},
	}
	for range *rounds {
		for _, size := range sizes {
			payload := bytes.Repeat([]byte{'x'}, size.n)
			for _, c := range contenders {
				b.Run(c.name+"/"+size.name, func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						if err := c.run(pb, payload); err != nil {
							b.Error(err)
						}
					})
				})
			}
		}
	}
}

// BenchmarkGoActor invokes Hello on the Go example actor, the heavy case: a
// Go runtime in the guest, MessagePack, and a Logging.Write host call that
// passes the capability gate and reaches the logging provider.
func BenchmarkGoActor(b *testing.B) {
	ctx := context.Background()
	module := sign(b, testkit.GoActor(b, "examples/hello"), "hello", "spore:logging")
	provs := lattice.NewLocalProviders()
	b.Cleanup(func() { provs.StopAll(ctx) })
	if _, err := provs.Start(ctx, logging.Name, providers.Env{Log: discard}); err != nil {
		b.Fatal(err)
	}
	contenders := []struct {
		name  string
		actor *host.Actor
	}{
		{"spore", newSporeActor(b, host.NewConfig().WithRouter(provs), module)},
		{"spore-nodeadline", newSporeActor(b, host.NewConfig().WithoutDeadlines().WithRouter(provs), module)},
	}
	payload := []byte("world")
	for range *rounds {
		for _, c := range contenders {
			b.Run(c.name+"/Hello", func(b *testing.B) {
				out, err := c.actor.Invoke(ctx, "Hello", payload)
				if err != nil || string(out) != "Hello, world!" {
					b.Fatalf("Hello: %q, %v", out, err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.actor.Invoke(ctx, "Hello", payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

var discard = slog.New(slog.DiscardHandler)

func signedEcho(b *testing.B) []byte {
	return sign(b, testkit.WAT(b, "host/testdata/echo.wat"), "echo")
}

// sign signs module as Spore's CLI does: a fresh account key as issuer and a
// fresh actor key as identity.
func sign(b *testing.B, module []byte, name string, caps ...string) []byte {
	b.Helper()
	issuer, err := signing.NewKey(signing.KindAccount)
	if err != nil {
		b.Fatal(err)
	}
	actor, err := signing.NewKey(signing.KindActor)
	if err != nil {
		b.Fatal(err)
	}
	id, _ := actor.PublicKey()
	signed, _, err := signing.Sign(module, signing.Claims{ID: id, Name: name, Revision: 1, Caps: caps}, issuer)
	if err != nil {
		b.Fatal(err)
	}
	return signed
}

func newSporeActor(b *testing.B, cfg host.Config, module []byte) *host.Actor {
	b.Helper()
	ctx := context.Background()
	h, err := host.New(ctx, cfg.WithLogger(discard))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(ctx) })
	a, err := h.Load(ctx, module, host.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func newWapcGo(b *testing.B, module []byte) wapc.Instance {
	b.Helper()
	ctx := context.Background()
	m, err := wapcwazero.Engine().New(ctx, wapc.NoOpHostCallHandler, module,
		&wapc.ModuleConfig{Logger: func(string) {}, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close(ctx) })
	inst, err := m.Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return inst
}

func checkEcho(b *testing.B, invoke func([]byte) ([]byte, error), payload []byte) {
	b.Helper()
	out, err := invoke(payload)
	if err != nil {
		b.Fatal(err)
	}
	if !bytes.Equal(out, payload) {
		b.Fatalf("echo of %d bytes came back as %d bytes", len(payload), len(out))
	}
}

// The raw floor: the least a correct waPC host on wazero does per call. The
// guest finds its call state through the context, a plain struct with no
// lookup; the response is copied out of guest memory, as any host must
// before the next call overwrites it. No pool, no limits, no deadline.

type rawHost struct {
	runtime  wazero.Runtime
	compiled wazero.CompiledModule
}

// rawCall is the state of one call, and the context the guest runs under.
type rawCall struct {
	context.Context
	op       string
	payload  []byte
	response []byte
	guestErr []byte
}

type rawInstance struct {
	call      rawCall
	mod       api.Module
	guestCall api.Function
	stack     [2]uint64
}

var i32 = api.ValueTypeI32

func newRaw(b *testing.B, module []byte) *rawHost {
	b.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	b.Cleanup(func() { r.Close(ctx) })
	_, err := r.NewHostModuleBuilder("wapc").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(rawGuestRequest), []api.ValueType{i32, i32}, nil).Export("__guest_request").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(rawGuestResponse), []api.ValueType{i32, i32}, nil).Export("__guest_response").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(rawGuestError), []api.ValueType{i32, i32}, nil).Export("__guest_error").
		Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	compiled, err := r.CompileModule(ctx, module)
	if err != nil {
		b.Fatal(err)
	}
	return &rawHost{runtime: r, compiled: compiled}
}

func (h *rawHost) instance(b *testing.B) *rawInstance {
	b.Helper()
	mod, err := h.runtime.InstantiateModule(context.Background(), h.compiled, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		b.Fatal(err)
	}
	inst := &rawInstance{mod: mod, guestCall: mod.ExportedFunction("__guest_call")}
	inst.call.Context = context.Background()
	return inst
}

func (inst *rawInstance) invoke(op string, payload []byte) ([]byte, error) {
	c := &inst.call
	c.op, c.payload, c.response, c.guestErr = op, payload, nil, nil
	inst.stack[0], inst.stack[1] = uint64(len(op)), uint64(len(payload))
	if err := inst.guestCall.CallWithStack(c, inst.stack[:]); err != nil {
		return nil, err
	}
	if uint32(inst.stack[0]) != 1 {
		return nil, fmt.Errorf("%s failed: %s", op, c.guestErr)
	}
	return c.response, nil
}

var errBadPointer = errors.New("guest passed a pointer outside its memory")

func rawGuestRequest(ctx context.Context, mod api.Module, stack []uint64) {
	c := ctx.(*rawCall)
	mem := mod.Memory()
	if !mem.WriteString(api.DecodeU32(stack[0]), c.op) || !mem.Write(api.DecodeU32(stack[1]), c.payload) {
		panic(errBadPointer)
	}
}

func rawGuestResponse(ctx context.Context, mod api.Module, stack []uint64) {
	ctx.(*rawCall).response = rawRead(mod, stack)
}

func rawGuestError(ctx context.Context, mod api.Module, stack []uint64) {
	ctx.(*rawCall).guestErr = rawRead(mod, stack)
}

func rawRead(mod api.Module, stack []uint64) []byte {
	b, ok := mod.Memory().Read(api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if !ok {
		panic(errBadPointer)
	}
	return append([]byte(nil), b...)
}
