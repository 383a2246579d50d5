package interrupt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/spore-run/spore/internal/interrupt"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/internal/wasmbin"
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
		checkInstrument(t, module[:n], true)
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

// checkInstrument instruments module and fails when Instrument accepts it
// and wazero compiles the module but not its instrumented form. With strict, it also fails when wazero compiles the module
// and Instrument refuses it; only for inputs known to be harmless to
// compile, as an arbitrary one can make wazero allocate gigabytes (which is
// why Instrument refuses such counts first).
func checkInstrument(t *testing.T, module []byte, strict bool) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	out, err := interrupt.Instrument(module)
	if err != nil {
		if strict {
			if _, cerr := r.CompileModule(ctx, module); cerr == nil {
				t.Fatalf("wazero compiles the module, Instrument refuses it: %v", err)
			}
		}
		return
	}
	if _, err := r.CompileModule(ctx, module); err != nil {
		return // invalid before; a malformed name section, which Instrument drops, may be valid after
	}
	if _, err := r.CompileModule(ctx, out); err != nil {
		t.Fatalf("wazero compiles the module but not its instrumented form: %v", err)
	}
}

// FuzzInstrument: no input makes Instrument panic, and what it accepts and
// wazero compiles, wazero compiles instrumented too.
func FuzzInstrument(f *testing.F) {
	for _, file := range []string{"indices.wat", "bare.wat"} {
		f.Add(testkit.WAT(f, "internal/interrupt/testdata/"+file))
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, module []byte) { checkInstrument(t, module, false) })
}

// TestNoEscape runs modules built to run without reaching a check (each
// was an escape a review found, or a shape of code with no loop to count):
// Instrument refuses each, or its instrumented form yields.
func TestNoEscape(t *testing.T) {
	for _, tt := range []struct {
		name   string
		module []byte
		arg    uint64
		refuse bool
	}{
		// index 0 is the budget global: a module of no globals names it
		{"writes the budget global", spinModule(1, []byte{0x00,
			0x03, 0x40, // loop
			0x41, 0x05, 0x24, 0x00, // global.set 0 (i32.const 5)
			0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, // br_if 0 (local.tee 0 (n-1))
			0x0b, 0x41, 0x01, 0x0b}), 1e9, true},
		// wazero reads a SIMD opcode as one byte: fd 8c 00 is i16x8.shr_s
		// then unreachable, not v128.const and 16 bytes hiding a loop
		{"SIMD opcode as wazero reads it", simdDesync(), 1e9, false},
		// 0x63 and a heap type: one block type to wazero, which a walk
		// reading one byte would be fooled by
		{"GC reference block type", refBlockType(), 1e9, true},
		// no loop at all, 2^31 calls
		{"a tree of calls", testkit.WAT(t, "internal/interrupt/testdata/fanout.wat"), 30, false},
		// every turn fills 16 MiB: a few turns are a budget
		{"memory.fill every turn", testkit.WAT(t, "internal/interrupt/testdata/fill.wat"), 1e9, false},
		// the same fill inside a block inside the loop
		{"memory.fill in a block", testkit.WAT(t, "internal/interrupt/testdata/fillblock.wat"), 1e9, false},
		// 0x63 padded to two bytes (e3 7f) is still a reference block type
		{"padded GC reference block type", spinModule(18, []byte{0x00,
			0x02, 0xe3, 0x7f, 0x02, 0x01, 0x02, 0xe3, 0x7f, 0x11,
			0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b,
			0x00, 0x0b, 0x00, 0x0b, 0x1a, 0x41, 0x01, 0x0b}), 1e9, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := interrupt.Instrument(tt.module)
			if tt.refuse {
				if err == nil {
					t.Fatal("instrumented; want it refused")
				}
				return
			}
			if err != nil {
				t.Fatalf("Instrument: %v", err)
			}
			g := instantiate(t, out)
			g.stopAfter = 2
			_, err = g.mod.ExportedFunction("spin").Call(context.Background(), tt.arg)
			if !errors.Is(err, errStop) {
				t.Fatalf("spin(%d): err = %v after %d yields, want it stopped at the second", tt.arg, err, g.yields)
			}
		})
	}
}

// simdDesync is a module whose loop hides, for a walk that reads SIMD
// opcodes as LEB128, inside the 16 bytes of a v128.const.
func simdDesync() []byte {
	body := []byte{0x00, // no locals
		0x41, 0x00, 0x04, 0x40, // i32.const 0; if
		0xfd, 0x0c} // v128.const
	body = append(body, make([]byte, 16)...)
	body = append(body, 0x41, 0x00, // i32.const 0
		0xfd, 0x8c, 0x00, // wazero: i16x8.shr_s; unreachable
		0x0b,       // end (of the if)
		0x03, 0x40, // loop
		0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, // br_if 0 (local.tee 0 (n-1))
		0x0b,       // end (of the loop)
		0x02, 0x40, // block
		0x01,       // nop
		0x0b,       // end
		0x41, 0x01, // i32.const 1
		0x0b)
	return spinModule(1, body)
}

// refBlockType is a module whose loop hides, for a walk that takes 0x63
// for a whole block type, in what it then reads as call_indirect's
// immediates.
func refBlockType() []byte {
	return spinModule(18, []byte{0x00,
		0x02, 0x63, 0x02, // block (result (ref null 2))
		0x01,
		0x02, 0x63, 0x11, // block (result (ref null 17))
		0x03, 0x40, // loop
		0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00,
		0x0b,
		0x00, 0x0b,
		0x00, 0x0b,
		0x1a, 0x41, 0x01, 0x0b})
}

// spinModule assembles a module of ntypes types (the first [i32] -> [i32])
// with one function of that type, exported as spin, and a memory.
func spinModule(ntypes int, body []byte) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	sec := func(id byte, b []byte) {
		m = append(m, id)
		m = wasmbin.AppendU32(m, uint32(len(b)))
		m = append(m, b...)
	}
	types := wasmbin.AppendU32(nil, uint32(ntypes))
	types = append(types, 0x60, 0x01, 0x7f, 0x01, 0x7f)
	for i := 1; i < ntypes; i++ {
		types = append(types, 0x60, 0x00, 0x00)
	}
	sec(1, types)
	sec(3, []byte{0x01, 0x00})
	sec(5, []byte{0x01, 0x00, 0x01})
	sec(7, []byte{0x02, 6, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 4, 's', 'p', 'i', 'n', 0x00, 0x00})
	sec(10, append(wasmbin.AppendU32([]byte{0x01}, uint32(len(body))), body...))
	return m
}

// TestChargesLongBodies: a turn of a loop whose body is 64 KiB of code
// costs 257 units (one, plus one per 256 bytes), so 1,000 turns and the
// call's own entry (as long) spend 257,257 units: two yields.
func TestChargesLongBodies(t *testing.T) {
	body := []byte{0x00, 0x03, 0x40} // no locals; loop
	body = append(body, make([]byte, 1<<16)...)
	for i := 3; i < len(body); i++ {
		body[i] = 0x01 // nop
	}
	body = append(body, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, // br_if 0 (local.tee 0 (n-1))
		0x0b, 0x41, 0x01, 0x0b)
	g := instantiate(t, instrument(t, spinModule(1, body)))
	g.call(t, "spin", 1000)
	if g.yields != 2 {
		t.Fatalf("1,000 turns of a 64 KiB loop yielded %d times, want 2", g.yields)
	}
}

// TestRefusesUnboundedTables: a table's elements are not in the linear
// memory the host caps, so a huge table and table.grow are refused.
func TestRefusesUnboundedTables(t *testing.T) {
	for _, file := range []string{"tablegrow.wat", "bigtable.wat"} {
		_, err := interrupt.Instrument(testkit.WAT(t, "internal/interrupt/testdata/"+file))
		if !errors.Is(err, interrupt.ErrUnsupported) {
			t.Errorf("%s: err = %v, want %v", file, err, interrupt.ErrUnsupported)
		}
	}
}

// TestRefusesHugeCounts: wazero sizes its tables by a section's declared
// count before reading the entries, so a count the bytes cannot hold is
// refused (2^32 functions in a 15-byte module ran the host out of memory).
func TestRefusesHugeCounts(t *testing.T) {
	header := []byte("\x00asm\x01\x00\x00\x00")
	for _, tt := range []struct {
		name    string
		section []byte
	}{
		{"functions", []byte{0x03, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"data segments", []byte{0x0b, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"types", []byte{0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"memories", []byte{0x05, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"locals", []byte{
			0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: func [] -> []
			0x03, 0x02, 0x01, 0x00,
			0x0a, 0x0a, 0x01, 0x08, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b}},
	} {
		if _, err := interrupt.Instrument(append(header[:8:8], tt.section...)); err == nil {
			t.Errorf("%s: a count of 2^32 was accepted", tt.name)
		}
	}
}
