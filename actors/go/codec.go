package actor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"

	spore "github.com/spore-run/spore"
)

// The contract payloads are encoded and decoded here by hand, not by
// reflection: in a Go guest, msgpack's reflection was nearly all of an HTTP
// request's time, and every loop it ran paid for the host's deadline check
// at each back-edge. The encoders write what msgpack.Marshal
// (vmihailenco/msgpack/v5) writes for the same value, byte for byte but for
// the order of map entries; the decoders read what msgpack.Unmarshal reads
// into the same type, with three differences: a struct must be a map (or
// nil), not an array; an integer that does not fit its field is an error,
// not truncated; an ext-wrapped map is refused. Tests and fuzz targets hold
// them to that.

// errTruncated is a payload that ends inside a value.
var errTruncated = errors.New("actor: msgpack: unexpected end of data")

// MessagePack codes used below (the spec's names).
const (
	mpNil     = 0xc0
	mpFalse   = 0xc2
	mpTrue    = 0xc3
	mpBin8    = 0xc4
	mpBin16   = 0xc5
	mpBin32   = 0xc6
	mpExt8    = 0xc7
	mpExt16   = 0xc8
	mpExt32   = 0xc9
	mpFloat32 = 0xca
	mpFloat64 = 0xcb
	mpUint8   = 0xcc
	mpUint16  = 0xcd
	mpUint32  = 0xce
	mpUint64  = 0xcf
	mpInt8    = 0xd0
	mpInt16   = 0xd1
	mpInt32   = 0xd2
	mpInt64   = 0xd3
	mpFixExt1 = 0xd4
	mpStr8    = 0xd9
	mpStr16   = 0xda
	mpStr32   = 0xdb
	mpArray16 = 0xdc
	mpArray32 = 0xdd
	mpMap16   = 0xde
	mpMap32   = 0xdf
)

// Encoding.

func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, mpStr8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, mpStr16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, mpStr32), uint32(n))
	}
	return append(b, s...)
}

// appendBin writes p as bin; nil is nil, as msgpack writes a nil slice.
func appendBin(b, p []byte) []byte {
	switch n := len(p); {
	case p == nil:
		return append(b, mpNil)
	case n <= math.MaxUint8:
		b = append(b, mpBin8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, mpBin16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, mpBin32), uint32(n))
	}
	return append(b, p...)
}

// appendLen writes a map (fix 0x80, code16 mpMap16) or array (0x90,
// mpArray16) header; the 32-bit code follows the 16-bit one.
func appendLen(b []byte, n int, fix, code16 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, code16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, code16+1), uint32(n))
}

func appendMapLen(b []byte, n int) []byte { return appendLen(b, n, 0x80, mpMap16) }

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, mpNil)
	}
	b = appendLen(b, len(ss), 0x90, mpArray16)
	for _, s := range ss {
		b = appendStr(b, s)
	}
	return b
}

func appendHeader(b []byte, h map[string][]string) []byte {
	if h == nil {
		return append(b, mpNil)
	}
	b = appendMapLen(b, len(h))
	for k, vs := range h {
		b = appendStrings(appendStr(b, k), vs)
	}
	return b
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, mpTrue)
	}
	return append(b, mpFalse)
}

// appendHTTPResponse writes r as {status, header, body}.
func appendHTTPResponse(b []byte, r *spore.HTTPResponse) []byte {
	b = binary.BigEndian.AppendUint16(append(appendStr(append(b, 0x83), "status"), mpUint16), r.Status)
	b = appendHeader(appendStr(b, "header"), r.Header)
	return appendBin(appendStr(b, "body"), r.Body)
}

// appendOutboundRequest writes r; nil is nil, as msgpack writes it.
func appendOutboundRequest(b []byte, r *spore.OutboundRequest) []byte {
	if r == nil {
		return append(b, mpNil)
	}
	b = appendStr(appendStr(append(b, 0x84), "method"), r.Method)
	b = appendStr(appendStr(b, "url"), r.URL)
	b = appendHeader(appendStr(b, "header"), r.Header)
	return appendBin(appendStr(b, "body"), r.Body)
}

func appendSetRequest(b []byte, r *spore.SetRequest) []byte {
	b = appendStr(appendStr(append(b, 0x83), "key"), r.Key)
	b = appendBin(appendStr(b, "value"), r.Value)
	return binary.BigEndian.AppendUint32(append(appendStr(b, "ttl_seconds"), mpUint32), r.TTLSeconds)
}

func appendIncrementRequest(b []byte, r *spore.IncrementRequest) []byte {
	b = appendStr(appendStr(append(b, 0x82), "key"), r.Key)
	return binary.BigEndian.AppendUint64(append(appendStr(b, "delta"), mpInt64), uint64(r.Delta))
}

func appendMessage(b []byte, m *spore.Message) []byte {
	b = appendStr(appendStr(append(b, 0x83), "subject"), m.Subject)
	b = appendStr(appendStr(b, "reply_to"), m.ReplyTo)
	return appendBin(appendStr(b, "body"), m.Body)
}

func appendRequestMessage(b []byte, r *spore.RequestMessage) []byte {
	b = appendStr(appendStr(append(b, 0x83), "subject"), r.Subject)
	b = appendBin(appendStr(b, "body"), r.Body)
	return binary.BigEndian.AppendUint32(append(appendStr(b, "timeout_ms"), mpUint32), r.TimeoutMs)
}

func appendLogEntry(b []byte, e *spore.LogEntry) []byte {
	b = appendStr(appendStr(append(b, 0x82), "level"), e.Level)
	return appendStr(appendStr(b, "text"), e.Text)
}

// Decoding.

// decoder reads one payload. The strings and byte slices it returns alias
// the payload, which the caller owns and never changes: a handler's payload
// or a host call's response, both fresh slices. A byte slice's capacity ends
// where its bytes do, so appending to it copies instead of writing over the
// strings that follow. The first error sticks: later reads return zero
// values, so a decoding loop checks d.err once per field.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) failCode(c byte, want string) {
	d.fail(fmt.Errorf("actor: msgpack: code 0x%02x at byte %d where %s was expected", c, d.off-1, want))
}

// next returns the code at the read position and moves past it.
func (d *decoder) next() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail(errTruncated)
		return mpNil
	}
	c := d.b[d.off]
	d.off++
	return c
}

// take returns the next n bytes and moves past them.
func (d *decoder) take(n int) []byte {
	if d.err != nil || n > len(d.b)-d.off {
		d.fail(errTruncated)
		return nil
	}
	p := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return p
}

// uintN reads a big-endian unsigned integer of n (1, 2, 4 or 8) bytes.
func (d *decoder) uintN(n int) uint64 {
	p := d.take(n)
	switch len(p) {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(p))
	case 4:
		return uint64(binary.BigEndian.Uint32(p))
	case 8:
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// rawLen reads the header of a str or bin and returns its length, or -1 for
// nil.
func (d *decoder) rawLen() int {
	switch c := d.next(); {
	case c >= 0xa0 && c <= 0xbf:
		return int(c & 0x1f)
	case c == mpNil:
		return -1
	case c == mpStr8 || c == mpBin8:
		return int(d.uintN(1))
	case c == mpStr16 || c == mpBin16:
		return int(d.uintN(2))
	case c == mpStr32 || c == mpBin32:
		return int(d.uintN(4))
	default:
		d.failCode(c, "a string")
		return 0
	}
}

// str reads a str or bin (nil is "") without copying it.
func (d *decoder) str() string {
	p := d.take(max(d.rawLen(), 0))
	if len(p) == 0 {
		return ""
	}
	return unsafe.String(&p[0], len(p))
}

// bytes reads a bin or str; nil is nil, and an empty one is empty, not nil.
func (d *decoder) bytes() []byte {
	n := d.rawLen()
	if n < 0 {
		return nil
	}
	return d.take(n)
}

// collLen reads a map or array header (fix is 0x80 or 0x90, code16 mpMap16
// or mpArray16) and returns its length, or -1 for nil. A length that the
// rest of the payload cannot hold, at one byte an element, is an error, so
// that no loop runs on a lie.
func (d *decoder) collLen(fix, code16 byte, per int, want string) int {
	var n int
	switch c := d.next(); {
	case c&0xf0 == fix:
		n = int(c & 0x0f)
	case c == mpNil:
		return -1
	case c == code16:
		n = int(d.uintN(2))
	case c == code16+1:
		n = int(d.uintN(4))
	default:
		d.failCode(c, want)
		return 0
	}
	if n > (len(d.b)-d.off)/per {
		d.fail(errTruncated)
		return 0
	}
	return n
}

func (d *decoder) mapLen() int   { return d.collLen(0x80, mpMap16, 2, "a map") }
func (d *decoder) arrayLen() int { return d.collLen(0x90, mpArray16, 1, "an array") }

// uint reads an integer in [0, limit]; nil is 0.
func (d *decoder) uint(limit uint64) uint64 {
	var n uint64
	switch c := d.next(); {
	case c <= 0x7f:
		n = uint64(c)
	case c == mpNil:
		return 0
	case c >= mpUint8 && c <= mpUint64:
		n = d.uintN(1 << (c - mpUint8))
	case c >= mpInt8 && c <= mpInt64:
		v := d.intN(c)
		if v < 0 {
			d.fail(fmt.Errorf("actor: msgpack: %d where an unsigned integer was expected", v))
			return 0
		}
		n = uint64(v)
	default:
		d.failCode(c, "an unsigned integer")
		return 0
	}
	if n > limit {
		d.fail(fmt.Errorf("actor: msgpack: %d is more than %d", n, limit))
		return 0
	}
	return n
}

// intN reads the signed integer of code c (mpInt8 to mpInt64).
func (d *decoder) intN(c byte) int64 {
	switch v := d.uintN(1 << (c - mpInt8)); c {
	case mpInt8:
		return int64(int8(v))
	case mpInt16:
		return int64(int16(v))
	case mpInt32:
		return int64(int32(v))
	default:
		return int64(v)
	}
}

// int64 reads a signed integer; nil is 0.
func (d *decoder) int64() int64 {
	switch c := d.next(); {
	case c <= 0x7f || c >= 0xe0:
		return int64(int8(c))
	case c == mpNil:
		return 0
	case c >= mpInt8 && c <= mpInt64:
		return d.intN(c)
	case c >= mpUint8 && c <= mpUint64:
		n := d.uintN(1 << (c - mpUint8))
		if n > math.MaxInt64 {
			d.fail(fmt.Errorf("actor: msgpack: %d is more than %d", n, int64(math.MaxInt64)))
			return 0
		}
		return int64(n)
	default:
		d.failCode(c, "an integer")
		return 0
	}
}

// bool reads a bool; nil is false.
func (d *decoder) bool() bool {
	switch c := d.next(); c {
	case mpTrue:
		return true
	case mpFalse, mpNil:
		return false
	default:
		d.failCode(c, "a bool")
		return false
	}
}

// strings reads an array of strings; nil is nil, and an empty array is
// empty, not nil.
func (d *decoder) strings() []string {
	n := d.arrayLen()
	if n < 0 || d.err != nil {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

// header reads a map of string arrays into h, which it makes if nil, as
// msgpack adds the entries of a repeated field to the map it already made.
// nil is nil. The value arrays share one allocation while it lasts, each
// capped at its own length.
func (d *decoder) header(h map[string][]string) map[string][]string {
	n := d.mapLen()
	if n < 0 {
		return nil
	}
	if h == nil {
		h = make(map[string][]string, min(n, 64))
	}
	var pool []string
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		m := d.arrayLen()
		switch {
		case m < 0:
			h[k] = nil
			continue
		case m == 0:
			h[k] = []string{}
			continue
		}
		if m > len(pool) {
			pool = make([]string, max(m, min(n-i, 64)))
		}
		vs := pool[:m:m]
		pool = pool[m:]
		for j := range vs {
			vs[j] = d.str()
		}
		h[k] = vs
	}
	return h
}

// skip moves past one value of any type, counting the values still to skip
// instead of recursing, so nesting costs no stack.
func (d *decoder) skip() {
	for todo := 1; todo > 0 && d.err == nil; todo-- {
		c := d.next()
		switch {
		case c <= 0x7f, c >= 0xe0, c == mpNil, c == mpFalse, c == mpTrue:
		case c >= 0x80 && c <= 0x9f, c == mpArray16, c == mpArray32, c == mpMap16, c == mpMap32:
			d.off--
			if c&0xf0 == 0x80 || c >= mpMap16 {
				todo += 2 * d.mapLen()
			} else {
				todo += d.arrayLen()
			}
		case c >= 0xa0 && c <= 0xbf, c >= mpStr8 && c <= mpStr32, c >= mpBin8 && c <= mpBin32:
			d.off--
			d.take(max(d.rawLen(), 0))
		case c >= mpExt8 && c <= mpExt32:
			d.take(int(d.uintN(1<<(c-mpExt8))) + 1) // the type byte, then the data
		case c == mpFloat32 || c == mpFloat64:
			d.take(4 << (c - mpFloat32))
		case c >= mpUint8 && c <= mpUint64:
			d.take(1 << (c - mpUint8))
		case c >= mpInt8 && c <= mpInt64:
			d.take(1 << (c - mpInt8))
		case c >= mpFixExt1 && c <= mpFixExt1+4:
			d.take(1<<(c-mpFixExt1) + 1)
		default: // 0xc1, never used
			d.failCode(c, "a value")
		}
	}
}

// decodeStruct reads a T from a map of field names to values, calling
// field for each name; field reads the value, or skips it if the name is
// unknown. nil leaves the T zero.
func decodeStruct[T any](data []byte, field func(d *decoder, v *T, name string)) (*T, error) {
	d := decoder{b: data}
	v := new(T)
	for i, n := 0, d.mapLen(); i < n && d.err == nil; i++ {
		field(&d, v, d.str())
	}
	return v, d.err
}

// decodeValue reads one value with read.
func decodeValue[T any](data []byte, read func(d *decoder) T) (T, error) {
	d := decoder{b: data}
	v := read(&d)
	return v, d.err
}

func decodeHTTPRequest(data []byte) (*spore.HTTPRequest, error) {
	return decodeStruct(data, func(d *decoder, r *spore.HTTPRequest, name string) {
		switch name {
		case "method":
			r.Method = d.str()
		case "path":
			r.Path = d.str()
		case "query":
			r.Query = d.str()
		default:
			d.httpField(name, &r.Header, &r.Body)
		}
	})
}

func decodeHTTPResponse(data []byte) (*spore.HTTPResponse, error) {
	return decodeStruct(data, func(d *decoder, r *spore.HTTPResponse, name string) {
		switch name {
		case "status":
			r.Status = uint16(d.uint(math.MaxUint16))
		default:
			d.httpField(name, &r.Header, &r.Body)
		}
	})
}

// httpField reads the fields that requests and responses share, and skips
// the unknown ones.
func (d *decoder) httpField(name string, header *map[string][]string, body *[]byte) {
	switch name {
	case "header":
		*header = d.header(*header)
	case "body":
		*body = d.bytes()
	default:
		d.skip()
	}
}

func decodeMessage(data []byte) (*spore.Message, error) {
	return decodeStruct(data, func(d *decoder, m *spore.Message, name string) {
		switch name {
		case "subject":
			m.Subject = d.str()
		case "reply_to":
			m.ReplyTo = d.str()
		case "body":
			m.Body = d.bytes()
		default:
			d.skip()
		}
	})
}

func decodeGetResponse(data []byte) (*spore.GetResponse, error) {
	return decodeStruct(data, func(d *decoder, r *spore.GetResponse, name string) {
		switch name {
		case "value":
			r.Value = d.bytes()
		case "exists":
			r.Exists = d.bool()
		default:
			d.skip()
		}
	})
}

func decodeBool(data []byte) (bool, error)        { return decodeValue(data, (*decoder).bool) }
func decodeInt64(data []byte) (int64, error)      { return decodeValue(data, (*decoder).int64) }
func decodeStrings(data []byte) ([]string, error) { return decodeValue(data, (*decoder).strings) }
