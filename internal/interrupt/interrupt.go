// Package interrupt makes a Wasm module stoppable at a cost its loops barely
// notice.
//
// A host must be able to stop a guest that loops: its deadline passed, or
// its caller gave up. wazero can do it (RuntimeConfig.WithCloseOnContextDone),
// but at a price paid on every call: a goroutine started per call to watch
// the context, and a call out of the guest into Go at every loop back-edge
// to ask whether the module was closed. A Go guest branches back to its
// function's loop header on every jump between blocks, so a small HTTP
// handler pays that exit hundreds of times per request.
//
// Instrument rewrites a module instead, the way Wasmtime's epoch
// interruption works: a budget counter, a new mutable global, counts down at
// every loop header and every function entry, and only when it runs out
// does the guest call the host's yield function (module Module, name Func,
// type [] -> [i32]). Yield stops the guest by panicking if it must stop, or
// returns the next budget. A check costs a load, a subtraction, a store and
// a branch; a yield is one Go call per Budget, which is also where the Go
// scheduler can preempt the goroutine running the guest (native code cannot
// be preempted otherwise). A loop turn is charged by the size of its body
// (see weight), a call by the size of the function, a bulk memory or table
// instruction by its length as it runs (see chargeBulk), so the time between checks is bounded: without
// loops and calls, Wasm code runs straight through, once. Tail calls, which
// would loop without either, are refused, as the host does not enable them.
//
// The walk must read the code exactly as wazero does, or a loop could hide
// from it inside what it took for an immediate: it refuses what it does
// not know (GC reference types, which wazero parses even with the proposal
// off, among them), and reads SIMD opcodes as wazero v1.12 does. A module
// that names the budget global (an index one past its own globals, invalid
// before instrumenting and valid after) is refused.
//
// The walk also refuses what would let a guest take memory outside the
// linear memory the host caps: table.grow, and tables declared with more
// than MaxTableElements elements.
//
// Function indices shift by one, since the yield import comes after the
// module's own imports: calls, ref.func, exports, the start function,
// element segments and the name section are rewritten to match. DWARF
// sections, whose code offsets no longer hold, are dropped.
package interrupt

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spore-run/spore/internal/wasmbin"
	"github.com/spore-run/spore/signing"
)

const (
	// Module and Func name the import the instrumented module calls when its
	// budget runs out.
	Module = "spore"
	Func   = "yield"
	// Budget is how much a guest runs between yields: as many turns of a
	// small loop (a nanosecond or two each), fewer of a long one. The host
	// hears from a busy guest every few hundred microseconds at the least,
	// while a yield (about 0.1 µs) adds nothing measurable.
	Budget = 100_000
)

// MaxLocals bounds a function's locals, which wazero allocates as declared.
const MaxLocals = 50_000

// Check runs Instrument's checks without keeping its output: for a host
// that runs modules as they are (without deadlines), the bounds still hold.
func Check(module []byte) error {
	_, err := Instrument(module)
	return err
}

// MaxTableElements bounds the elements of a module's tables together: 8
// bytes each, outside the linear memory the host caps. Go's runtime
// declares about 6,000.
const MaxTableElements = 1 << 20

// ErrUnsupported means the module uses an instruction or a section form
// that Instrument does not know, such as one of a Wasm proposal the host
// does not enable.
var ErrUnsupported = errors.New("unsupported by the interrupt instrumentation")

// Instrument returns a copy of module whose loops count down a budget and
// call the yield import when it runs out. It checks the framing it walks;
// wazero validates the result as it does any module.
func Instrument(module []byte) ([]byte, error) {
	secs, err := signing.ParseSections(module)
	if err != nil {
		return nil, err
	}
	var m moduleCounts
	for _, s := range secs {
		if err := m.count(s.ID, sectionBody(module, s)); err != nil {
			return nil, fmt.Errorf("interrupt: section %d: %w", s.ID, err)
		}
	}
	rw := &rewriter{imports: m.funcImports, yieldType: m.types, budgetGlobal: m.globalImports + m.globals,
		typeParams: m.typeParams, funcTypes: m.funcTypes, scratch: -1}
	out := make([]byte, 0, len(module)+len(module)/8+64)
	out = append(out, module[:8]...)
	added := map[byte]bool{}
	addMissing := func(before int) {
		for _, id := range []byte{1, 2, 6} { // type, import, global
			if !m.present[id] && !added[id] && rank(id) < before {
				b, _ := rw.extendSection(id, []byte{0}) // an empty section cannot fail
				out = appendSection(out, id, b)
				added[id] = true
			}
		}
	}
	for _, s := range secs {
		body := sectionBody(module, s)
		if s.ID != 0 {
			addMissing(rank(s.ID))
		}
		switch s.ID {
		case 0:
			switch {
			case strings.HasPrefix(s.Name, ".debug_"):
				// Code offsets moved: drop DWARF rather than mislead.
			case s.Name == "name":
				if names, err := rw.names(body); err == nil {
					out = appendSection(out, 0, names)
				} // else: malformed names are debug information, dropped
			default:
				out = append(out, module[s.Start:s.End]...)
			}
		case 1, 2, 6:
			b, err := rw.extendSection(s.ID, body)
			if err != nil {
				return nil, fmt.Errorf("interrupt: section %d: %w", s.ID, err)
			}
			out = appendSection(out, s.ID, b)
		case 7, 8, 9, 10, 11:
			b, err := rw.rewrite(s.ID, body)
			if err != nil {
				return nil, fmt.Errorf("interrupt: section %d: %w", s.ID, err)
			}
			out = appendSection(out, s.ID, b)
		default:
			out = append(out, module[s.Start:s.End]...)
		}
	}
	addMissing(rank(255))
	return out, nil
}

// moduleCounts are the counts Instrument needs before it writes anything.
type moduleCounts struct {
	types, funcImports, globalImports, globals uint32
	typeParams                                 []uint32 // by type index
	funcTypes                                  []uint32 // by defined function
	tableElements                              uint64
	present                                    [256]bool
}

func (m *moduleCounts) count(id byte, body []byte) error {
	if id != 0 {
		if m.present[id] {
			return fmt.Errorf("%w: the section appears twice", errMalformed)
		}
		m.present[id] = true
	}
	r := &reader{b: body}
	switch id {
	case 1:
		// Every count is checked against the bytes that hold its entries:
		// wazero sizes its tables by the declared count before reading
		// them, and a count of 2^32 in a 15-byte module ran the host out
		// of memory.
		m.types = r.u32()
		for n := m.types; n > 0 && r.err == nil; n-- {
			if form := r.u8(); form != 0x60 && r.err == nil {
				r.fail("%w: type form 0x%02x", ErrUnsupported, form)
			}
			for i := range 2 { // parameters, results
				k := r.u32()
				if i == 0 {
					m.typeParams = append(m.typeParams, k)
				}
				for ; k > 0 && r.err == nil; k-- {
					r.valueType()
				}
			}
		}
	case 3:
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			m.funcTypes = append(m.funcTypes, r.u32())
		}
	case 5:
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.limits()
		}
	case 12:
		if n := r.u32(); r.err == nil && n > 1<<20 {
			r.fail("%w: a data count of %d", errMalformed, n)
		}
	case 6:
		m.globals = r.u32()
	case 4:
		// Tables keep their bytes, so an initializer (the 0x40 form), which
		// could hold a function index, is refused rather than rewritten.
		// A table's memory is not the linear memory the host caps, so its
		// size is bounded here (and table.grow refused in the code).
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			if r.pos < len(r.b) && r.b[r.pos] == 0x40 {
				r.fail("%w: a table with an initializer", ErrUnsupported)
			}
			r.refType()
			m.tableElements += uint64(r.limits())
			if m.tableElements > MaxTableElements {
				r.fail("%w: tables of %d elements in all; the limit is %d", ErrUnsupported, m.tableElements, MaxTableElements)
			}
		}
	case 2:
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.name()
			r.name()
			switch kind := r.u8(); kind {
			case 0x00: // func
				r.u32()
				m.funcImports++
			case 0x01: // table: reftype, limits
				r.refType()
				r.limits()
			case 0x02: // memory
				r.limits()
			case 0x03: // global
				r.valueType()
				r.u8()
				m.globalImports++
			default:
				r.fail("%w: import kind 0x%02x", ErrUnsupported, kind)
			}
		}
	}
	return r.err
}

// rank orders the known sections as the binary format requires; custom
// sections may sit anywhere.
func rank(id byte) int {
	switch id {
	case 12: // data count, between element and code
		return 95
	case 13: // tag, between memory and global
		return 55
	}
	return int(id) * 10
}

// sectionBody is the section's contents after its id and size; for a custom
// section, that includes its name.
func sectionBody(module []byte, s signing.Section) []byte {
	_, n, _ := wasmbin.ReadU32(module[s.Start+1:]) // ParseSections read it already
	return module[s.Start+1+n : s.End]
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = wasmbin.AppendU32(out, uint32(len(body)))
	return append(out, body...)
}

type rewriter struct {
	imports      uint32 // function imports of the original module
	yieldType    uint32 // index of the [] -> [i32] type added
	budgetGlobal uint32 // index of the budget global added
	typeParams   []uint32
	funcTypes    []uint32
	// scratch is the i32 local added to the function being walked, which
	// holds a bulk instruction's length while it is charged; -1 outside
	// function bodies.
	scratch int64
}

// fn maps an original function index to the instrumented module's.
func (rw *rewriter) fn(idx uint32) uint32 {
	if idx < rw.imports {
		return idx
	}
	return idx + 1
}

// extend returns the entry Instrument appends to a type, import or global
// section, after the given entries.
func (rw *rewriter) extend(id byte, entries []byte) []byte {
	switch id {
	case 1:
		return append(entries, 0x60, 0x00, 0x01, 0x7f) // func [] -> [i32]
	case 2:
		entries = appendName(entries, Module)
		entries = appendName(entries, Func)
		entries = append(entries, 0x00)
		return wasmbin.AppendU32(entries, rw.yieldType)
	default: // 6: (mut i32) = Budget
		entries = append(entries, 0x7f, 0x01, 0x41)
		entries = appendS32(entries, Budget)
		return append(entries, 0x0b)
	}
}

// extendSection adds the instrumentation's entry to a type, import or global
// section, rewriting the global initializers' function references.
func (rw *rewriter) extendSection(id byte, body []byte) ([]byte, error) {
	e := &editor{r: reader{b: body}}
	n := e.r.u32()
	if e.r.err == nil && n == ^uint32(0) {
		e.r.fail("%w: too many entries", errMalformed)
	}
	e.mark = e.r.pos
	if id == 6 {
		for i := uint32(0); i < n && e.r.err == nil; i++ {
			e.r.valueType()
			e.r.u8() // mutability
			rw.expr(e)
		}
		if e.r.err == nil && e.r.pos != len(body) {
			e.r.fail("%w: %d bytes after the last global", errMalformed, len(body)-e.r.pos)
		}
	} else {
		e.r.pos = len(body)
	}
	if e.r.err != nil {
		return nil, e.r.err
	}
	e.flush()
	out := wasmbin.AppendU32(nil, n+1)
	out = append(out, e.out...)
	return rw.extend(id, out), nil
}

// rewrite shifts the function indices of an export, start, element or code
// section, and instruments the code.
func (rw *rewriter) rewrite(id byte, body []byte) ([]byte, error) {
	e := &editor{r: reader{b: body}}
	switch id {
	case 7: // export
		for n := e.r.u32(); n > 0 && e.r.err == nil; n-- {
			e.r.name()
			switch kind := e.r.u8(); kind {
			case 0x00:
				e.funcIndex(rw)
			case 0x03:
				if idx := e.r.u32(); e.r.err == nil && idx >= rw.budgetGlobal {
					e.r.fail("%w: export of global %d, which the module does not define", errMalformed, idx)
				}
			default:
				e.r.u32()
			}
		}
	case 8: // start
		e.funcIndex(rw)
	case 9: // element
		for n := e.r.u32(); n > 0 && e.r.err == nil; n-- {
			rw.element(e)
		}
	case 10: // code
		return rw.code(body)
	case 11: // data: nothing to rewrite, but every length is checked
		for n := e.r.u32(); n > 0 && e.r.err == nil; n-- {
			switch flags := e.r.u32(); flags {
			case 0:
				rw.expr(e)
			case 1:
			case 2:
				e.r.u32()
				rw.expr(e)
			default:
				e.r.fail("%w: data segment flags %d", ErrUnsupported, flags)
			}
			e.r.name() // the bytes, length-prefixed as a name is
		}
	}
	if e.r.err == nil && e.r.pos != len(body) {
		e.r.fail("%w: %d bytes after the last entry", errMalformed, len(body)-e.r.pos)
	}
	if e.r.err != nil {
		return nil, e.r.err
	}
	e.flush()
	return e.out, nil
}

func (rw *rewriter) element(e *editor) {
	funcs := func() {
		for n := e.r.u32(); n > 0 && e.r.err == nil; n-- {
			e.funcIndex(rw)
		}
	}
	exprs := func() {
		for n := e.r.u32(); n > 0 && e.r.err == nil; n-- {
			rw.expr(e)
		}
	}
	switch flags := e.r.u32(); flags {
	case 0: // active, table 0, offset, function indices
		rw.expr(e)
		funcs()
	case 1, 3: // passive or declarative, element kind, function indices
		e.r.elemKind()
		funcs()
	case 2: // active, table, offset, element kind, function indices
		e.r.u32()
		rw.expr(e)
		e.r.elemKind()
		funcs()
	case 4: // active, table 0, offset, expressions
		rw.expr(e)
		exprs()
	case 5, 7: // passive or declarative, reference type, expressions
		e.r.refType()
		exprs()
	case 6: // active, table, offset, reference type, expressions
		e.r.u32()
		rw.expr(e)
		e.r.refType()
		exprs()
	default:
		e.r.fail("%w: element segment flags %d", ErrUnsupported, flags)
	}
}

// code instruments every function body; their sizes change, so each is
// written anew.
func (rw *rewriter) code(body []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := wasmbin.AppendU32(make([]byte, 0, len(body)+len(body)/8), n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		if r.err == nil && uint64(size) > uint64(len(body)-r.pos) {
			r.fail("%w: function body %d of %d bytes runs past the section", errMalformed, i, size)
		}
		if r.err != nil {
			break
		}
		if uint64(i) >= uint64(len(rw.funcTypes)) || uint64(rw.funcTypes[i]) >= uint64(len(rw.typeParams)) {
			r.fail("%w: function body %d has no declared type", errMalformed, i)
			break
		}
		f := &editor{r: reader{b: body[r.pos : r.pos+int(size)]}}
		entries := f.r.u32()
		countEnd := f.r.pos
		total := uint64(0)
		for k := entries; k > 0 && f.r.err == nil; k-- {
			total += uint64(f.r.u32())
			f.r.valueType()
		}
		if total > MaxLocals && f.r.err == nil {
			f.r.fail("%w: %d locals; the limit is %d", ErrUnsupported, total, MaxLocals)
		}
		if f.r.err == nil {
			// One more local, an i32 after the others: the scratch that
			// bulk instructions' charges use.
			f.out = wasmbin.AppendU32(f.out, entries+1)
			f.mark = countEnd
			f.flush()
			f.out = append(f.out, 0x01, 0x7f)
			rw.scratch = int64(uint64(rw.typeParams[rw.funcTypes[i]]) + total)
		}
		// The entry check: a call graph without loops (a tree of calls)
		// can run for as long as it is wide.
		f.flush()
		entry := len(f.out) + checkCostAt
		f.out = rw.appendCheck(f.out)
		rw.body(f, entry)
		rw.scratch = -1
		if f.r.err == nil && f.r.pos != len(f.r.b) {
			f.r.fail("%w: %d bytes after the body's end", errMalformed, len(f.r.b)-f.r.pos)
		}
		if f.r.err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, f.r.err)
		}
		f.flush()
		out = wasmbin.AppendU32(out, uint32(len(f.out)))
		out = append(out, f.out...)
		r.pos += int(size)
	}
	if r.err == nil && r.pos != len(body) {
		r.fail("%w: %d bytes after the last body", errMalformed, len(body)-r.pos)
	}
	return out, r.err
}

// expr walks one expression up to its final end, shifting function
// indices, refusing references to the budget global, and adding the budget
// check at the top of every loop; weighted (see weight), each check's cost
// is patched in when its loop's end is reached. A const expression (a
// global's or an element's) is walked the same way: it has no loops.
func (rw *rewriter) expr(e *editor) {
	rw.body(e, -1)
}

// body walks an expression; when entry is not negative, the function's
// entry check sits at e.out[entry:] and is weighted by the whole body.
func (rw *rewriter) body(e *editor, entry int) {
	r := &e.r
	type block struct {
		loop  bool
		start int // input position after the loop's block type
		patch int // output position of the check's cost
	}
	blocks := []block{{start: r.pos, patch: entry}}
	for r.err == nil {
		switch op := r.u8(); {
		case op == 0x02 || op == 0x04: // block, if
			r.blockType()
			blocks = append(blocks, block{})
		case op == 0x03: // loop
			r.blockType()
			e.flush()
			patch := len(e.out) + checkCostAt
			e.out = rw.appendCheck(e.out)
			blocks = append(blocks, block{loop: true, start: r.pos, patch: patch})
		case op == 0x0b: // end
			b := blocks[len(blocks)-1]
			if b.loop || (len(blocks) == 1 && b.patch >= 0) {
				patchCost(e.out[b.patch:], weight(r.pos-b.start))
			}
			if len(blocks) == 1 {
				return
			}
			blocks = blocks[:len(blocks)-1]
		case op <= 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1 || (op >= 0x45 && op <= 0xc4):
			// no immediates: unreachable, nop, else, return, drop, select,
			// ref.is_null, the numeric instructions
		case op == 0x23 || op == 0x24: // global.get, global.set
			if idx := r.u32(); r.err == nil && idx >= rw.budgetGlobal {
				r.pos -= 1
				r.fail("%w: global %d, which the module does not define", errMalformed, idx)
			}
		case op == 0x0c || op == 0x0d || (op >= 0x20 && op <= 0x22) || op == 0x25 || op == 0x26 || op == 0x3f || op == 0x40:
			r.u32() // br, br_if, locals, table.get/set, memory.size/grow
		case op == 0x0e: // br_table
			for n := uint64(r.u32()) + 1; n > 0 && r.err == nil; n-- {
				r.u32()
			}
		case op == 0x10 || op == 0xd2: // call, ref.func
			e.funcIndex(rw)
		case op == 0x11: // call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select with types
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				r.valueType()
			}
		case op >= 0x28 && op <= 0x3e:
			r.memarg()
		case op == 0x41:
			r.skipLEB(5)
		case op == 0x42:
			r.skipLEB(10)
		case op == 0x43:
			r.skip(4)
		case op == 0x44:
			r.skip(8)
		case op == 0xd0: // ref.null
			r.refType()
		case op == 0xfc:
			start := r.pos - 1
			switch r.miscOp() {
			case miscBulk:
				rw.chargeBulk(e, start)
			case miscTableGrow:
				r.fail("%w: table.grow (a table's memory is not counted against the actor's limit)", ErrUnsupported)
			}
		case op == 0xfd:
			r.simdOp()
		default:
			r.pos--
			r.fail("%w: instruction 0x%02x", ErrUnsupported, op)
		}
	}
}

// weight is what one pass through a loop's body (or one call of a
// function) takes from the budget: one unit, plus one per 256 bytes of
// code, so that a long body cannot run for long between checks, never more
// than a whole Budget. Bulk instructions are charged as they run (see
// chargeBulk).
func weight(bodyBytes int) int32 {
	return int32(min(1+min(bodyBytes>>8, 4095), Budget))
}

// chargeBulk puts, before the bulk instruction at start, code that takes
// its length (the operand on top of the stack) from the budget, a unit per
// KiB: memory.fill and its kind run for as long as that says, and the next
// check yields once it is spent.
//
//	local.tee $scratch; global.get $budget; local.get $scratch
//	i32.const 10; i32.shr_u; i32.sub; global.set $budget
func (rw *rewriter) chargeBulk(e *editor, start int) {
	if rw.scratch < 0 {
		e.r.fail("%w: a bulk instruction outside a function body", ErrUnsupported)
		return
	}
	l, g := uint32(rw.scratch), rw.budgetGlobal
	e.out = append(e.out, e.r.b[e.mark:start]...)
	e.out = wasmbin.AppendU32(append(e.out, 0x22), l)
	e.out = wasmbin.AppendU32(append(e.out, 0x23), g)
	e.out = wasmbin.AppendU32(append(e.out, 0x20), l)
	e.out = append(e.out, 0x41, 0x0a, 0x76, 0x6b, 0x24)
	e.out = wasmbin.AppendU32(e.out, g)
	e.mark = start
}

// checkCostAt is where the cost sits in appendCheck's sequence: after
// global.get and its 5-byte index.
const checkCostAt = 1 + 5 + 1

// appendCheck is the budget check at a loop's top and a function's entry;
// the cost (a 5-byte i32.const, patched later) defaults to 1:
//
//	global.get $budget; i32.const cost; i32.sub; global.set $budget
//	global.get $budget; i32.const 0; i32.le_s
//	if; call $yield; global.set $budget; end
//
// Indices are written padded to 5 bytes, so checkCostAt holds.
func (rw *rewriter) appendCheck(out []byte) []byte {
	g, y := rw.budgetGlobal, rw.imports
	out = appendPaddedU32(append(out, 0x23), g)
	out = append(out, 0x41, 0x81, 0x80, 0x80, 0x80, 0x00) // i32.const 1, padded
	out = append(out, 0x6b, 0x24)
	out = appendPaddedU32(out, g)
	out = appendPaddedU32(append(out, 0x23), g)
	out = append(out, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x10) // i32.const 0; i32.le_s; if; call
	out = appendPaddedU32(out, y)
	out = appendPaddedU32(append(out, 0x24), g)
	return append(out, 0x0b)
}

// patchCost writes cost into the 5-byte i32.const immediate at the start of
// b.
func patchCost(b []byte, cost int32) {
	v := uint32(cost)
	for i := range 4 {
		b[i] = byte(v&0x7f) | 0x80
		v >>= 7
	}
	b[4] = byte(v & 0x07) // a positive cost: the sign bit stays clear
}

func appendPaddedU32(out []byte, v uint32) []byte {
	for range 4 {
		out = append(out, byte(v&0x7f)|0x80)
		v >>= 7
	}
	return append(out, byte(v))
}

// names rewrites the function indices of the name section: function names
// (1), local names (2) and label names (3). The others name no functions.
func (rw *rewriter) names(body []byte) ([]byte, error) {
	r := &reader{b: body}
	r.name()
	out := appendName(nil, "name")
	for r.pos < len(body) && r.err == nil {
		id := r.u8()
		size := r.u32()
		if r.err == nil && uint64(size) > uint64(len(body)-r.pos) {
			r.fail("%w: name subsection runs past the section", errMalformed)
		}
		if r.err != nil {
			break
		}
		sub := body[r.pos : r.pos+int(size)]
		r.pos += int(size)
		if id < 1 || id > 3 {
			out = append(out, id)
			out = wasmbin.AppendU32(out, size)
			out = append(out, sub...)
			continue
		}
		e := &editor{r: reader{b: sub}}
		for n := e.r.u32(); n > 0 && e.r.err == nil; n-- {
			e.funcIndex(rw)
			if id == 1 {
				e.r.name()
				continue
			}
			for m := e.r.u32(); m > 0 && e.r.err == nil; m-- {
				e.r.u32()
				e.r.name()
			}
		}
		if e.r.err != nil {
			return nil, e.r.err
		}
		e.r.pos = len(sub) // keep whatever follows, as it was
		e.flush()
		out = append(out, id)
		out = wasmbin.AppendU32(out, uint32(len(e.out)))
		out = append(out, e.out...)
	}
	return out, r.err
}

func appendName(out []byte, s string) []byte {
	return append(wasmbin.AppendU32(out, uint32(len(s))), s...)
}

// appendS32 appends the signed LEB128 encoding of v.
func appendS32(out []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}
