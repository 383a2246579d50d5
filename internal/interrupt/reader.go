package interrupt

import (
	"errors"
	"fmt"

	"github.com/spore-run/spore/internal/wasmbin"
)

var errMalformed = errors.New("malformed module")

// reader walks bytes with a sticky error: after the first failure every
// read returns zero and the position stays at the end, so loops over
// counts read from the input end as soon as the bytes do.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %w", r.pos, fmt.Errorf(format, args...))
	}
	r.pos = len(r.b)
}

func (r *reader) u8() byte {
	if r.pos >= len(r.b) {
		r.fail("%w: ends early", errMalformed)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	v, n, err := wasmbin.ReadU32(r.b[r.pos:])
	if err != nil {
		r.fail("%w: %v", errMalformed, err)
		return 0
	}
	r.pos += n
	return v
}

func (r *reader) skipLEB(maxBytes int) {
	if r.err != nil {
		return
	}
	n, err := wasmbin.SkipLEB(r.b[r.pos:], maxBytes)
	if err != nil {
		r.fail("%w: %v", errMalformed, err)
		return
	}
	r.pos += n
}

func (r *reader) skip(n uint64) {
	if n > uint64(len(r.b)-r.pos) {
		r.fail("%w: %d bytes run past the end", errMalformed, n)
		return
	}
	r.pos += int(n)
}

// name skips a length-prefixed name.
func (r *reader) name() { r.skip(uint64(r.u32())) }

// limits reads a table's or memory's limits and returns the initial size.
func (r *reader) limits() (initial uint32) {
	flags := r.u8()
	initial = r.u32()
	if flags&0x01 != 0 {
		r.u32()
	}
	return initial
}

// blockType skips a block type: empty (0x40), a value type, or a type
// index, all one signed LEB128 (s33). The reference types of the GC
// proposal (0x63, 0x64, then a heap type), which wazero parses even with
// the proposal off, are refused: the walk must read what wazero reads.
func (r *reader) blockType() {
	start := r.pos
	r.skipLEB(5)
	if r.err != nil {
		return
	}
	// Decode the s33 as wazero does (leb128.DecodeInt33AsInt64): a padded
	// encoding of -29 (0x63) or -28 (0x64), such as e3 7f, is followed by a
	// heap type too.
	var v int64
	shift := 0
	for _, c := range r.b[start:r.pos] {
		v |= int64(c&0x7f) << shift
		shift += 7
	}
	if shift < 33 && r.b[r.pos-1]&0x40 != 0 {
		v |= 8589934591 << shift
	}
	v &= 8589934591
	if v&(1<<32) != 0 {
		v -= 1 << 33
	}
	if v == -29 || v == -28 {
		r.pos = start
		r.fail("%w: a reference block type (GC proposal)", ErrUnsupported)
	}
}

// valueType reads a value type: i32, i64, f32, f64, v128, funcref,
// externref.
func (r *reader) valueType() {
	switch t := r.u8(); t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
	default:
		if r.err == nil {
			r.pos--
			r.fail("%w: value type 0x%02x", ErrUnsupported, t)
		}
	}
}

// refType reads a reference type: funcref or externref.
func (r *reader) refType() {
	switch t := r.u8(); t {
	case 0x70, 0x6f:
	default:
		if r.err == nil {
			r.pos--
			r.fail("%w: reference type 0x%02x", ErrUnsupported, t)
		}
	}
}

// elemKind reads an element kind, which can only be funcref (0x00).
func (r *reader) elemKind() {
	if k := r.u8(); k != 0x00 && r.err == nil {
		r.pos--
		r.fail("%w: element kind 0x%02x", ErrUnsupported, k)
	}
}

// memarg skips a memory instruction's alignment, memory index (multi-memory
// sets bit 6 of the alignment) and offset.
func (r *reader) memarg() {
	if align := r.u32(); align&0x40 != 0 {
		r.u32()
	}
	r.skipLEB(10)
}

// miscKind sorts the 0xFC instructions the walk cares about.
type miscKind int

const (
	miscOther     miscKind = iota
	miscBulk               // runs for as long as an operand says: fill, copy, init
	miscTableGrow          // table.grow
)

// miscOp skips the immediates of a 0xFC instruction: saturating
// conversions, bulk memory and table instructions.
func (r *reader) miscOp() miscKind {
	switch op := r.u32(); {
	case op <= 7: // trunc_sat
	case op == 8 || op == 10 || op == 12 || op == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
		return miscBulk
	case op == 11 || op == 17: // memory.fill, table.fill
		r.u32()
		return miscBulk
	case op == 15: // table.grow
		r.u32()
		return miscTableGrow
	case op <= 17: // data.drop, elem.drop, table.size
		r.u32()
	default:
		r.fail("%w: instruction 0xfc %d", ErrUnsupported, op)
	}
	return miscOther
}

// simdOp skips the immediates of a 0xFD (SIMD) instruction. Its opcode is
// read as one byte, not as the LEB128 the spec says, because that is how
// wazero v1.12 reads it (the second byte of a canonical two-byte opcode,
// 0x01, then reads as a nop): a walk that read otherwise could skip, as an
// immediate, a loop that wazero runs.
func (r *reader) simdOp() {
	switch op := r.u8(); {
	case op <= 11 || op == 92 || op == 93: // loads, store, load*_zero
		r.memarg()
	case op == 12 || op == 13: // v128.const, i8x16.shuffle
		r.skip(16)
	case op >= 21 && op <= 34: // extract and replace lane
		r.u8()
	case op >= 84 && op <= 91: // load and store lane
		r.memarg()
		r.u8()
	}
}

// editor copies what its reader walks past, and lets a walk replace what
// it just read: flush copies up to the reader's position.
type editor struct {
	r    reader
	out  []byte
	mark int
}

func (e *editor) flush() {
	e.out = append(e.out, e.r.b[e.mark:e.r.pos]...)
	e.mark = e.r.pos
}

// funcIndex reads a function index and writes it shifted.
func (e *editor) funcIndex(rw *rewriter) {
	e.flush()
	idx := e.r.u32()
	if e.r.err != nil {
		return
	}
	e.out = wasmbin.AppendU32(e.out, rw.fn(idx))
	e.mark = e.r.pos
}
