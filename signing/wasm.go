package signing

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/spore-run/spore/internal/wasmbin"
)

// headerLen is the length of the magic plus version that opens every module.
const headerLen = 8

var (
	wasmMagic   = []byte{0x00, 'a', 's', 'm'}
	wasmVersion = []byte{0x01, 0x00, 0x00, 0x00}
)

// Section is one section of a Wasm module, located by byte offsets.
type Section struct {
	// ID is the section id: 0 for custom sections, 1 (type) to 12
	// (data count) for the known ones.
	ID byte
	// Name is the name of a custom section; empty for the others.
	Name string
	// Start and End delimit the whole section in the module, header
	// included: module[Start:End] is the section.
	Start, End int
}

// rawSection is a Section plus where its contents begin: after the size for
// known sections, after the name for custom ones.
type rawSection struct {
	Section
	body int
}

// ParseSections walks every section of a core Wasm module and returns them
// in order. The sections are contiguous and cover the module after its
// 8-byte header. It checks the framing only (ids, sizes, custom names), not
// the contents of the known sections: wazero validates those when it
// compiles the module.
//
// Errors wrap ErrNotWasm (no magic, or a version other than 1) or
// ErrMalformed (a size runs past the end, an over-long LEB128, a custom
// section without a valid UTF-8 name).
func ParseSections(module []byte) ([]Section, error) {
	raw, err := parseSections(module)
	if err != nil {
		return nil, err
	}
	out := make([]Section, len(raw))
	for i, s := range raw {
		out[i] = s.Section
	}
	return out, nil
}

func parseSections(module []byte) ([]rawSection, error) {
	if err := checkHeader(module); err != nil {
		return nil, err
	}
	var out []rawSection
	pos := headerLen
	for pos < len(module) {
		idx := len(out)
		start := pos
		id := module[pos]
		pos++
		size, n, err := wasmbin.ReadU32(module[pos:])
		if err != nil {
			return nil, malformedAt(idx, id, start, "section size: %v", err)
		}
		pos += n
		if uint64(size) > uint64(len(module)-pos) {
			return nil, malformedAt(idx, id, start, "declares %d bytes but only %d remain; the file is truncated or corrupt, rebuild it", size, len(module)-pos)
		}
		end := pos + int(size)
		s := rawSection{Section: Section{ID: id, Start: start, End: end}, body: pos}
		if id == 0 {
			nameLen, n, err := wasmbin.ReadU32(module[pos:end])
			if err != nil {
				return nil, malformedAt(idx, id, start, "custom section name length: %v", err)
			}
			if uint64(nameLen) > uint64(end-pos-n) {
				return nil, malformedAt(idx, id, start, "custom section name of %d bytes runs past the section end", nameLen)
			}
			name := module[pos+n : pos+n+int(nameLen)]
			if !utf8.Valid(name) {
				return nil, malformedAt(idx, id, start, "custom section name is not valid UTF-8")
			}
			s.Name = string(name)
			s.body = pos + n + int(nameLen)
		}
		out = append(out, s)
		pos = end
	}
	return out, nil
}

func checkHeader(module []byte) error {
	if len(module) < len(wasmMagic) || !bytes.Equal(module[:len(wasmMagic)], wasmMagic) {
		if len(module) == 0 {
			return fmt.Errorf("%w: the file is empty; pass a compiled core Wasm module (.wasm)", ErrNotWasm)
		}
		head := module[:min(len(module), 4)]
		return fmt.Errorf("%w: missing \\0asm magic (file starts with %x); pass a compiled core Wasm module (.wasm)", ErrNotWasm, head)
	}
	if len(module) < headerLen {
		return fmt.Errorf("%w: file ends inside the 8-byte header (%d bytes); it is truncated, rebuild it", ErrNotWasm, len(module))
	}
	if v := module[4:headerLen]; !bytes.Equal(v, wasmVersion) {
		// The component model uses the same magic with layer 1 in the
		// upper half of the version field.
		if binary.LittleEndian.Uint16(v[2:]) == 1 {
			return fmt.Errorf("%w: this is a Wasm component (version %x), Spore runs core modules only; build a core module", ErrNotWasm, v)
		}
		return fmt.Errorf("%w: unsupported binary version %x (want 01000000)", ErrNotWasm, v)
	}
	return nil
}

func malformedAt(idx int, id byte, offset int, format string, args ...any) error {
	return fmt.Errorf("%w: module section %d (id %d) at offset %d: %s", ErrMalformed, idx, id, offset, fmt.Sprintf(format, args...))
}

// StripCustom returns a copy of module without any custom section named
// name. Other sections keep their order and bytes.
func StripCustom(module []byte, name string) ([]byte, error) {
	secs, err := parseSections(module)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(module))
	out = append(out, module[:headerLen]...)
	for _, s := range secs {
		if s.ID == 0 && s.Name == name {
			continue
		}
		out = append(out, module[s.Start:s.End]...)
	}
	return out, nil
}

// AppendCustom returns a copy of module with a custom section named name
// holding payload added at the end. Custom sections may sit anywhere, so
// the module stays valid.
func AppendCustom(module []byte, name string, payload []byte) ([]byte, error) {
	if _, err := parseSections(module); err != nil {
		return nil, err
	}
	if !utf8.ValidString(name) {
		return nil, fmt.Errorf("signing: append custom section: name %q is not valid UTF-8", name)
	}
	if uint64(len(name)) > math.MaxUint32 {
		return nil, fmt.Errorf("signing: append custom section: name too long")
	}
	var nameLen []byte
	nameLen = wasmbin.AppendU32(nameLen, uint32(len(name)))
	size := uint64(len(nameLen)) + uint64(len(name)) + uint64(len(payload))
	if size > math.MaxUint32 {
		return nil, fmt.Errorf("signing: append custom section %q: %d bytes exceed the 4 GiB section limit", name, size)
	}
	out := make([]byte, 0, len(module)+1+5+int(size))
	out = append(out, module...)
	out = append(out, 0)
	out = wasmbin.AppendU32(out, uint32(size))
	out = append(out, nameLen...)
	out = append(out, name...)
	out = append(out, payload...)
	return out, nil
}
