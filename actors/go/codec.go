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
// at the top of each loop. The encoders write what msgpack.Marshal
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

// appendStr writes s as a str. The common fixstr is written inline, where
// the compiler inlines it, without the branches the longer forms take.
func appendStr(b []byte, s string) []byte {
	if len(s) < 32 {
		return append(append(b, 0xa0|byte(len(s))), s...)
	}
	return appendLongStr(b, s)
}

func appendLongStr(b []byte, s string) []byte {
	switch n := len(s); {
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
	if len(p) <= math.MaxUint8 && p != nil {
		return append(append(b, mpBin8, byte(len(p))), p...)
	}
	switch n := len(p); {
	case p == nil:
		return append(b, mpNil)
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

// appendHeader writes h as a map of arrays of strings; nil is nil, as msgpack
// writes nil maps and slices.
func appendHeader(b []byte, h map[string][]string) []byte {
	if h == nil {
		return append(b, mpNil)
	}
	b = appendMapLen(b, len(h))
	for k, vs := range h {
		b = appendStr(b, k)
		if vs == nil {
			b = append(b, mpNil)
			continue
		}
		b = appendLen(b, len(vs), 0x90, mpArray16)
		for _, v := range vs {
			b = appendStr(b, v)
		}
	}
	return b
}

// The encoders below write each struct as a map of its fields in their
// order, the map header and each field name a literal: the name "status" is
// 0xa6 (a str of 6 bytes) then its bytes.

// appendHTTPResponse writes r as {status, header, body}.
func appendHTTPResponse(b []byte, r *spore.HTTPResponse) []byte {
	b = append(b, "\x83\xa6status\xcd"...) // status as a uint16, as msgpack writes one
	b = append(b, byte(r.Status>>8), byte(r.Status))
	b = appendHeader(append(b, "\xa6header"...), r.Header)
	return appendBin(append(b, "\xa4body"...), r.Body)
}

// appendOutboundRequest writes r; nil is nil, as msgpack writes it.
func appendOutboundRequest(b []byte, r *spore.OutboundRequest) []byte {
	if r == nil {
		return append(b, mpNil)
	}
	b = appendStr(append(b, "\x84\xa6method"...), r.Method)
	b = appendStr(append(b, "\xa3url"...), r.URL)
	b = appendHeader(append(b, "\xa6header"...), r.Header)
	return appendBin(append(b, "\xa4body"...), r.Body)
}

func appendSetRequest(b []byte, r *spore.SetRequest) []byte {
	b = appendStr(append(b, "\x83\xa3key"...), r.Key)
	b = appendBin(append(b, "\xa5value"...), r.Value)
	return binary.BigEndian.AppendUint32(append(b, "\xabttl_seconds\xce"...), r.TTLSeconds)
}

func appendIncrementRequest(b []byte, r *spore.IncrementRequest) []byte {
	b = appendStr(append(b, "\x82\xa3key"...), r.Key)
	return binary.BigEndian.AppendUint64(append(b, "\xa5delta\xd3"...), uint64(r.Delta))
}

func appendMessage(b []byte, m *spore.Message) []byte {
	b = appendStr(append(b, "\x83\xa7subject"...), m.Subject)
	b = appendStr(append(b, "\xa8reply_to"...), m.ReplyTo)
	return appendBin(append(b, "\xa4body"...), m.Body)
}

func appendRequestMessage(b []byte, r *spore.RequestMessage) []byte {
	b = appendStr(append(b, "\x83\xa7subject"...), r.Subject)
	b = appendBin(append(b, "\xa4body"...), r.Body)
	return binary.BigEndian.AppendUint32(append(b, "\xaatimeout_ms\xce"...), r.TimeoutMs)
}

func appendLogEntry(b []byte, e *spore.LogEntry) []byte {
	b = appendStr(append(b, "\x82\xa5level"...), e.Level)
	return appendStr(append(b, "\xa4text"...), e.Text)
}

// Decoding.

// decoder reads one payload. The strings and byte slices it returns alias
// the payload, which the caller owns and never changes: a handler's payload
// (HandleHTTP's copy of it) or a host call's response, a fresh slice. A byte slice's capacity ends
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

// The readers of the common forms (a fixstr, a bin 8, a fixmap, a
// fixarray) handle them inline and call out for the rest: every call and
// every branch taken costs a Go guest dearly (see "Cost of a call" in the
// package doc).

// str reads a str or bin (nil is "") without copying it.
func (d *decoder) str() string {
	if i := d.off; i < len(d.b) && d.b[i]&0xe0 == 0xa0 {
		if j := i + 1 + int(d.b[i]&0x1f); j <= len(d.b) {
			d.off = j
			return unsafe.String(unsafe.SliceData(d.b[i+1:j]), j-i-1)
		}
	}
	p := d.take(max(d.rawLen(), 0))
	return unsafe.String(unsafe.SliceData(p), len(p))
}

// bytes reads a bin or str; nil is nil, and an empty one is empty, not nil.
func (d *decoder) bytes() []byte {
	if i := d.off; i+1 < len(d.b) && d.b[i] == mpBin8 {
		if j := i + 2 + int(d.b[i+1]); j <= len(d.b) {
			d.off = j
			return d.b[i+2 : j : j]
		}
	}
	n := d.rawLen()
	if n < 0 {
		return nil
	}
	return d.take(n)
}

// key reads a field name as a word: its bytes in little-endian order. A
// name that no field has (empty, longer than 8 bytes, or ending in a zero
// byte, which would read as a shorter name) is 0. Matching words instead of
// strings takes no loop and one branch a field.
func (d *decoder) key() uint64 {
	// A fixstr of 1 to 8 bytes with 8 to read from its first: one load.
	if i := d.off; i+9 <= len(d.b) {
		if c := d.b[i]; c > 0xa0 && c <= 0xa8 && d.b[i+int(c&0x1f)] != 0 {
			n := int(c & 0x1f)
			d.off += 1 + n
			return binary.LittleEndian.Uint64(d.b[i+1:]) & (uint64(1)<<(8*n) - 1)
		}
	}
	s := d.str()
	n := len(s)
	if n == 0 || n > 8 || s[n-1] == 0 {
		return 0
	}
	var w uint64
	for i := n - 1; i >= 0; i-- {
		w = w<<8 | uint64(s[i])
	}
	return w
}

// expect reads the next field name if it is k, and otherwise nothing.
func (d *decoder) expect(k uint64) bool {
	off := d.off
	if d.key() == k {
		return true
	}
	d.off = off
	return false
}

// The field names, as key reads them.
const (
	keyMethod  = 0x646f6874656d     // method
	keyPath    = 0x68746170         // path
	keyQuery   = 0x7972657571       // query
	keyHeader  = 0x726564616568     // header
	keyBody    = 0x79646f62         // body
	keyStatus  = 0x737574617473     // status
	keySubject = 0x7463656a627573   // subject
	keyReplyTo = 0x6f745f796c706572 // reply_to
	keyValue   = 0x65756c6176       // value
	keyExists  = 0x737473697865     // exists
)

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

func (d *decoder) mapLen() int {
	if i := d.off; i < len(d.b) && d.b[i]&0xf0 == 0x80 {
		if n := int(d.b[i] & 0x0f); 2*n < len(d.b)-i {
			d.off++
			return n
		}
	}
	return d.collLen(0x80, mpMap16, 2, "a map")
}

func (d *decoder) arrayLen() int {
	if i := d.off; i < len(d.b) && d.b[i]&0xf0 == 0x90 {
		if n := int(d.b[i] & 0x0f); n < len(d.b)-i {
			d.off++
			return n
		}
	}
	return d.collLen(0x90, mpArray16, 1, "an array")
}

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
// nil is nil. The value arrays are cut from pool, each capped at its own
// length, while it lasts; header returns what is left of it.
func (d *decoder) header(h map[string][]string, pool []string) (map[string][]string, []string) {
	n := d.mapLen()
	if n < 0 {
		return nil, pool
	}
	switch {
	case h != nil:
	case n <= 8: // a small map, made without the sizing a hint takes
		h = make(map[string][]string)
	default:
		h = make(map[string][]string, min(n, 64))
	}
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		var vs []string
		switch m := d.arrayLen(); {
		case m < 0: // nil
		case m == 0:
			vs = []string{}
		default:
			if m > len(pool) {
				pool = make([]string, max(m, min(n-i, 64)))
			}
			vs, pool = pool[:m:m], pool[m:]
			for j := range vs {
				vs[j] = d.str()
			}
		}
		h[k] = vs
	}
	return h, pool
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
// field for each name (as key reads it); field reads the value, or skips it
// if the name is unknown. nil leaves the T zero.
func decodeStruct[T any](data []byte, field func(d *decoder, v *T, key uint64)) (*T, error) {
	d := decoder{b: data}
	v := new(T)
	for i, n := 0, d.mapLen(); i < n && d.err == nil; i++ {
		field(&d, v, d.key())
	}
	return v, d.err
}

// decodeValue reads one value with read.
func decodeValue[T any](data []byte, read func(d *decoder) T) (T, error) {
	d := decoder{b: data}
	v := read(&d)
	return v, d.err
}

// request is an HTTPRequest with room for the values of its first header
// entries and for a small payload, which its strings and body then alias:
// one allocation, of 512 bytes (a size class), for a GET's whole request.
type request struct {
	spore.HTTPRequest
	values  [4]string
	payload [368]byte
}

// decodeHTTPRequest is decodeStruct written out, the hot path of an HTTP
// actor. What it returns aliases data only if owned (the caller's to give);
// otherwise it copies data into the request, or into a slice of its own
// when too large.
func decodeHTTPRequest(data []byte, owned bool) (*spore.HTTPRequest, error) {
	r := new(request)
	switch {
	case len(data) <= len(r.payload):
		data = r.payload[:copy(r.payload[:], data)]
	case !owned:
		data = clone(data)
	}
	d := decoder{b: data}
	var q spore.HTTPRequest
	pool := r.values[:]
	n := d.mapLen()
	i := 0
	// The provider writes method, path, query, header and body, in this
	// order: read them in a row while they come so (a branch taken per
	// field fewer than the loop's), then whatever is left in the loop.
	if n == 5 && d.expect(keyMethod) {
		q.Method, i = d.str(), 1
		if d.expect(keyPath) {
			q.Path, i = d.str(), 2
			if d.expect(keyQuery) {
				q.Query, i = d.str(), 3
				if d.expect(keyHeader) {
					q.Header, pool = d.header(q.Header, pool)
					i = 4
					if d.expect(keyBody) {
						q.Body, i = d.bytes(), 5
					}
				}
			}
		}
	}
	for ; i < n && d.err == nil; i++ {
		switch d.key() {
		case keyMethod:
			q.Method = d.str()
		case keyPath:
			q.Path = d.str()
		case keyQuery:
			q.Query = d.str()
		case keyHeader:
			q.Header, pool = d.header(q.Header, pool)
		case keyBody:
			q.Body = d.bytes()
		default:
			d.skip()
		}
	}
	r.HTTPRequest = q
	return &r.HTTPRequest, d.err
}

func decodeHTTPResponse(data []byte) (*spore.HTTPResponse, error) {
	return decodeStruct(data, func(d *decoder, r *spore.HTTPResponse, key uint64) {
		switch key {
		case keyStatus:
			r.Status = uint16(d.uint(math.MaxUint16))
		case keyHeader:
			r.Header, _ = d.header(r.Header, nil)
		case keyBody:
			r.Body = d.bytes()
		default:
			d.skip()
		}
	})
}

func decodeMessage(data []byte) (*spore.Message, error) {
	return decodeStruct(data, func(d *decoder, m *spore.Message, key uint64) {
		switch key {
		case keySubject:
			m.Subject = d.str()
		case keyReplyTo:
			m.ReplyTo = d.str()
		case keyBody:
			m.Body = d.bytes()
		default:
			d.skip()
		}
	})
}

func decodeGetResponse(data []byte) (*spore.GetResponse, error) {
	return decodeStruct(data, func(d *decoder, r *spore.GetResponse, key uint64) {
		switch key {
		case keyValue:
			r.Value = d.bytes()
		case keyExists:
			r.Exists = d.bool()
		default:
			d.skip()
		}
	})
}

func decodeBool(data []byte) (bool, error)        { return decodeValue(data, (*decoder).bool) }
func decodeInt64(data []byte) (int64, error)      { return decodeValue(data, (*decoder).int64) }
func decodeStrings(data []byte) ([]string, error) { return decodeValue(data, (*decoder).strings) }
