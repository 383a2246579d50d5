// Package wasmbin reads and writes the LEB128 integers of the Wasm binary
// format, for the packages that walk modules: signing (sections) and
// interrupt (instructions).
package wasmbin

import "fmt"

// ReadU32 decodes an unsigned LEB128 u32 from the start of b and returns the
// value and the number of bytes read. As the Wasm spec requires, it accepts
// padded encodings up to 5 bytes (linkers pad section sizes) and rejects
// longer ones and a fifth byte with bits beyond 32.
func ReadU32(b []byte) (uint32, int, error) {
	var v uint32
	for i := range 5 {
		if i >= len(b) {
			return 0, 0, fmt.Errorf("LEB128 truncated after %d bytes", i)
		}
		c := b[i]
		if i == 4 && c&0xf0 != 0 {
			return 0, 0, fmt.Errorf("LEB128 longer than 5 bytes or over 32 bits")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	panic("unreachable")
}

// SkipLEB returns the length of the LEB128 integer at the start of b, of at
// most maxBytes bytes (5 for 32 bits, 10 for 64). It checks the framing
// only: wazero validates the value.
func SkipLEB(b []byte, maxBytes int) (int, error) {
	for i := range maxBytes {
		if i >= len(b) {
			return 0, fmt.Errorf("LEB128 truncated after %d bytes", i)
		}
		if b[i]&0x80 == 0 {
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("LEB128 longer than %d bytes", maxBytes)
}

// AppendU32 appends the minimal LEB128 encoding of v.
func AppendU32(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}
