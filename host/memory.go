package host

import "github.com/tetratelabs/wazero/experimental"

// cappedMemory backs one instance's linear memory and refuses to grow past a
// limit. Refusing is how memory.grow returns -1 to the guest; the flag tells
// the host afterwards that a failure was an out-of-memory and not a bug.
type cappedMemory struct {
	limit   uint64
	buf     []byte
	refused bool
}

// Interface guards
var _ experimental.LinearMemory = (*cappedMemory)(nil)

func newCappedMemory(limit, capHint uint64) *cappedMemory {
	if capHint > limit {
		capHint = limit
	}
	return &cappedMemory{limit: limit, buf: make([]byte, 0, capHint)}
}

// Reallocate implements experimental.LinearMemory.
func (m *cappedMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		// Growing within capacity: the bytes past len are still zero, since
		// memory never shrinks.
		m.buf = m.buf[:size]
		return m.buf
	}
	c := 2 * uint64(cap(m.buf))
	if c < size {
		c = size
	}
	if c > m.limit {
		c = m.limit
	}
	nb := make([]byte, size, c)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *cappedMemory) Free() { m.buf = nil }
