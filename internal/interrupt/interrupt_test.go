package interrupt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/spore-run/spore/internal/interrupt"
	"github.com/spore-run/spore/internal/testkit"
)

// guest is a module instantiated in its own runtime, with env.add and the
// yield import; yields counts the yields, and stopAfter, when positive,
// makes the yield that many yields in unwind the guest.
type guest struct {
	mod       api.Module
	yields    int
	stopAfter int
}

var errStop = errors.New("stopped")

func instantiate(t *testing.T, module []byte) *guest {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	g := &guest{}
	_, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(a, b int32) int32 { return a + b }).Export("add").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.NewHostModuleBuilder(interrupt.Module).NewFunctionBuilder().
		WithFunc(func() int32 {
			g.yields++
			if g.stopAfter > 0 && g.yields >= g.stopAfter {
				panic(errStop)
			}
			return interrupt.Budget
		}).Export(interrupt.Func).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g.mod, err = r.Instantiate(ctx, module); err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	return g
}

func (g *guest) call(t *testing.T, name string, args ...uint64) uint64 {
	t.Helper()
	out, err := g.mod.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	if len(out) == 0 {
		return 0
	}
	return out[0]
}

func instrument(t *testing.T, module []byte) []byte {
	t.Helper()
	out, err := interrupt.Instrument(module)
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	return out
}

// TestSameResults runs every export of a module that uses function indices
// everywhere they may appear, before and after instrumenting: shifted
// indices that missed a place would call the wrong function or fail to
// instantiate.
func TestSameResults(t *testing.T) {
	module := testkit.WAT(t, "internal/interrupt/testdata/indices.wat")
	before := instantiate(t, module)
	after := instantiate(t, instrument(t, module))
	calls := []struct {
		name string
		args []uint64
	}{
		{"sum", []uint64{1000}},
		{"countdown", []uint64{50}},
		{"indirect", []uint64{0, 21}}, // double, through env.add
		{"indirect", []uint64{1, 9}},  // square
		{"byref", []uint64{7}},        // triple, by ref.func
		{"byglobal", []uint64{5}},     // double, by a global's ref.func
		{"started", nil},              // the start function ran
	}
	for _, c := range calls {
		want, got := before.call(t, c.name, c.args...), after.call(t, c.name, c.args...)
		if got != want {
			t.Errorf("%s%v = %d instrumented, %d before", c.name, c.args, got, want)
		}
	}
	if got := after.call(t, "sum", 1000); got != 499500 {
		t.Errorf("sum(1000) = %d, want 499500", got)
	}
	if before.yields != 0 {
		t.Errorf("the original module yielded %d times", before.yields)
	}
}

// TestYieldsEveryBudget counts the yields of a loop of known length: one
// per Budget loop turns.
func TestYieldsEveryBudget(t *testing.T) {
	g := instantiate(t, instrument(t, testkit.WAT(t, "internal/interrupt/testdata/indices.wat")))
	const turns = 10*interrupt.Budget + 5
	g.call(t, "sum", turns-1) // the loop's top runs n+1 times
	if g.yields != 10 {
		t.Fatalf("%d loop turns yielded %d times, want 10", turns, g.yields)
	}
}

// TestStopsAnEndlessLoop is the point of it all: a loop that never calls
// out still reaches the host, which can unwind it.
func TestStopsAnEndlessLoop(t *testing.T) {
	for _, tt := range []struct{ file, fn string }{
		{"internal/interrupt/testdata/indices.wat", "forever"},
		{"internal/interrupt/testdata/bare.wat", "spin"}, // spin(0) counts down from 2^32
	} {
		g := instantiate(t, instrument(t, testkit.WAT(t, tt.file)))
		g.stopAfter = 3
		args := []uint64{}
		if tt.fn == "spin" {
			args = append(args, 0)
		}
		_, err := g.mod.ExportedFunction(tt.fn).Call(context.Background(), args...)
		if !errors.Is(err, errStop) || g.yields != 3 {
			t.Fatalf("%s: err = %v after %d yields, want %v after 3", tt.fn, err, g.yields, errStop)
		}
	}
}

// TestKeepsNames checks the name section follows the shift: a trap's stack
// trace and every export's debug name still name the right function.
func TestKeepsNames(t *testing.T) {
	ctx := context.Background()
	module := testkit.GoActor(t, "examples/hello")
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	before, err := r.CompileModule(ctx, module)
	if err != nil {
		t.Fatal(err)
	}
	after, err := r.CompileModule(ctx, instrument(t, module))
	if err != nil {
		t.Fatalf("the instrumented Go actor does not compile: %v", err)
	}
	for name, f := range before.ExportedFunctions() {
		g := after.ExportedFunctions()[name]
		if g == nil || g.DebugName() != f.DebugName() {
			t.Errorf("export %s: %v instrumented, %s before", name, g, f.DebugName())
		}
	}
	if len(after.ImportedFunctions()) != len(before.ImportedFunctions())+1 {
		t.Errorf("%d imports instrumented, %d before: want one more", len(after.ImportedFunctions()), len(before.ImportedFunctions()))
	}
}

// TestRefusesBadModules: malformed and unsupported input gets an error,
// never a panic, and what wazero accepts, Instrument accepts and keeps
// acceptable, down to every prefix of a module.
func TestRefusesBadModules(t *testing.T) {
	module := testkit.WAT(t, "internal/interrupt/testdata/indices.wat")
	for n := range len(module) {
		checkInstrument(t, module[:n])
	}
	tail := []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: func [] -> []
		0x03, 0x02, 0x01, 0x00, // one function of type 0
		0x0a, 0x06, 0x01, 0x04, 0x00, 0x12, 0x00, 0x0b, // return_call 0 (tail calls)
	}
	if _, err := interrupt.Instrument(tail); !errors.Is(err, interrupt.ErrUnsupported) {
		t.Errorf("tail call: err = %v, want %v", err, interrupt.ErrUnsupported)
	}
	truncated := append([]byte(nil), tail...)
	truncated[21] = 0x05 // the body claims one byte more than its section holds
	if _, err := interrupt.Instrument(truncated); err == nil {
		t.Error("a body running past its section was accepted")
	}
}

// checkInstrument instruments module and fails when wazero compiles the
// module but Instrument refuses it, or when it accepts it and wazero does
// not compile the result.
func checkInstrument(t *testing.T, module []byte) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	out, err := interrupt.Instrument(module)
	if _, cerr := r.CompileModule(ctx, module); cerr != nil {
		return // invalid: an error or a module wazero refuses alike
	}
	if err != nil {
		t.Fatalf("wazero compiles the module, Instrument refuses it: %v", err)
	}
	if _, err := r.CompileModule(ctx, out); err != nil {
		t.Fatalf("the instrumented module does not compile: %v", err)
	}
}

// FuzzInstrument: no input makes Instrument panic, and it keeps every
// module wazero accepts acceptable.
func FuzzInstrument(f *testing.F) {
	for _, file := range []string{"indices.wat", "bare.wat"} {
		f.Add(testkit.WAT(f, "internal/interrupt/testdata/"+file))
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, module []byte) { checkInstrument(t, module) })
}
