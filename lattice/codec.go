package lattice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
)

// Invocations and results are encoded and decoded by hand, straight between
// the structs and bytes, rather than by msgpack's reflection or through its
// Encoder and Decoder: they are on every call's path, and those cost more
// than the rest of the envelope handling together. Encoding appends to one
// buffer; decoding makes no copy of the payload or token (they share the
// input's memory) and one allocation for all the string fields. The wire
// format is the same map (docs/protocol.md), and decoding accepts any
// MessagePack encoding of it: a str where a bin is due and the reverse, any
// integer width, unknown keys (skipped, so newer peers may add fields).

// Interface guards
var (
	_ msgpack.CustomEncoder = (*Invocation)(nil)
	_ msgpack.CustomDecoder = (*Invocation)(nil)
	_ msgpack.CustomEncoder = (*Result)(nil)
	_ msgpack.CustomDecoder = (*Result)(nil)
)

// EncodeMsgpack implements msgpack.CustomEncoder.
func (inv *Invocation) EncodeMsgpack(e *msgpack.Encoder) error {
	return e.Encode(msgpack.RawMessage(inv.appendMsgpack(nil)))
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (inv *Invocation) DecodeMsgpack(d *msgpack.Decoder) error {
	raw, err := d.DecodeRaw()
	if err != nil {
		return err
	}
	return inv.decode(raw)
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (r *Result) EncodeMsgpack(e *msgpack.Encoder) error {
	return e.Encode(msgpack.RawMessage(r.appendMsgpack(nil)))
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (r *Result) DecodeMsgpack(d *msgpack.Decoder) error {
	raw, err := d.DecodeRaw()
	if err != nil {
		return err
	}
	return r.decode(raw)
}

// encodedSize is an upper bound of the invocation's encoded length, so that
// encoding allocates once.
func (inv *Invocation) encodedSize() int {
	n := 128 + len(inv.ID) + len(inv.Origin) + len(inv.OriginName) + len(inv.Target) +
		len(inv.Operation) + len(inv.Payload) + len(inv.Blob) + len(inv.Issuer) + len(inv.Token)
	if l := inv.Link; l != nil {
		n += 64 + len(l.ActorID) + len(l.Contract) + len(l.LinkName) + len(l.Provider) + strMapSize(l.Values)
	}
	return n + strMapSize(inv.Trace)
}

func strMapSize(m map[string]string) int {
	n := 5
	for k, v := range m {
		n += 10 + len(k) + len(v)
	}
	return n
}

// appendMsgpack appends the invocation's MessagePack map to b.
func (inv *Invocation) appendMsgpack(b []byte) []byte {
	n := 7 // id, origin, target, operation, payload, issuer, token
	for _, present := range [...]bool{inv.OriginName != "", inv.Blob != "", inv.Link != nil, len(inv.Trace) > 0, inv.Deadline != 0} {
		if present {
			n++
		}
	}
	b = appendMapLen(b, n)
	b = appendStr(appendStr(b, "id"), inv.ID)
	b = appendStr(appendStr(b, "origin"), inv.Origin)
	if inv.OriginName != "" {
		b = appendStr(appendStr(b, "origin_name"), inv.OriginName)
	}
	b = appendStr(appendStr(b, "target"), inv.Target)
	b = appendStr(appendStr(b, "operation"), inv.Operation)
	b = appendBin(appendStr(b, "payload"), inv.Payload)
	if inv.Blob != "" {
		b = appendStr(appendStr(b, "blob"), inv.Blob)
	}
	if l := inv.Link; l != nil {
		b = appendMapLen(appendStr(b, "link"), 5)
		b = appendStr(appendStr(b, "actor_id"), l.ActorID)
		b = appendStr(appendStr(b, "contract"), l.Contract)
		b = appendStr(appendStr(b, "link_name"), l.LinkName)
		b = appendStr(appendStr(b, "provider"), l.Provider)
		b = appendStrMap(appendStr(b, "values"), l.Values)
	}
	if len(inv.Trace) > 0 {
		b = appendStrMap(appendStr(b, "trace"), inv.Trace)
	}
	if inv.Deadline != 0 {
		b = appendInt(appendStr(b, "deadline"), inv.Deadline)
	}
	b = appendStr(appendStr(b, "issuer"), inv.Issuer)
	return appendBin(appendStr(b, "token"), inv.Token)
}

// decode reads an invocation from b. Payload and Token share b's memory.
func (inv *Invocation) decode(b []byte) error {
	r := mpReader{b: b}
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("invocation is nil")
	}
	var s strFields
	for range n {
		k, err := r.str()
		if err != nil {
			return err
		}
		var v []byte
		switch string(k) {
		case "id":
			v, err = r.str()
			s.add(v, &inv.ID)
		case "origin":
			v, err = r.str()
			s.add(v, &inv.Origin)
		case "origin_name":
			v, err = r.str()
			s.add(v, &inv.OriginName)
		case "target":
			v, err = r.str()
			s.add(v, &inv.Target)
		case "operation":
			v, err = r.str()
			s.add(v, &inv.Operation)
		case "payload":
			inv.Payload, err = r.str()
		case "blob":
			v, err = r.str()
			s.add(v, &inv.Blob)
		case "link":
			inv.Link, err = r.link(&s)
		case "trace":
			inv.Trace, err = r.strMap()
		case "deadline":
			inv.Deadline, err = r.int64()
		case "issuer":
			v, err = r.str()
			s.add(v, &inv.Issuer)
		case "token":
			inv.Token, err = r.str()
		default:
			err = r.skip(0)
		}
		if err != nil {
			return fmt.Errorf("field %s: %w", k, err)
		}
	}
	s.copyOut()
	return nil
}

// link reads a link map, or nil.
func (r *mpReader) link(s *strFields) (*spore.Link, error) {
	n, err := r.mapLen()
	if n < 0 || err != nil {
		return nil, err
	}
	l := &spore.Link{}
	for range n {
		k, err := r.str()
		if err != nil {
			return nil, err
		}
		var v []byte
		switch string(k) {
		case "actor_id":
			v, err = r.str()
			s.add(v, &l.ActorID)
		case "contract":
			v, err = r.str()
			s.add(v, &l.Contract)
		case "link_name":
			v, err = r.str()
			s.add(v, &l.LinkName)
		case "provider":
			v, err = r.str()
			s.add(v, &l.Provider)
		case "values":
			l.Values, err = r.strMap()
		default:
			err = r.skip(0)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return l, nil
}

// appendMsgpack appends the result's MessagePack map to b.
func (r *Result) appendMsgpack(b []byte) []byte {
	n := 1
	if r.ID != "" {
		n++
	}
	if r.Blob != "" {
		n++
	}
	if r.Error != nil {
		n++
	}
	b = appendMapLen(b, n)
	if r.ID != "" {
		b = appendStr(appendStr(b, "id"), r.ID)
	}
	b = appendBin(appendStr(b, "payload"), r.Payload)
	if r.Blob != "" {
		b = appendStr(appendStr(b, "blob"), r.Blob)
	}
	if r.Error != nil {
		b = appendMapLen(appendStr(b, "error"), 2)
		b = appendStr(appendStr(b, "code"), string(r.Error.Code))
		b = appendStr(appendStr(b, "message"), r.Error.Message)
	}
	return b
}

// resultID returns the id a result names, as decode would read it (the
// last of several), without copying it; nil when it names none or does
// not decode.
func resultID(b []byte) []byte {
	rd := mpReader{b: b}
	n, err := rd.mapLen()
	if err != nil {
		return nil
	}
	var id []byte
	for range n {
		k, err := rd.str()
		if err != nil {
			return nil
		}
		if string(k) == "id" {
			id, err = rd.str()
		} else {
			err = rd.skip(0)
		}
		if err != nil {
			return nil
		}
	}
	return id
}

// decode reads a result from b. Payload shares b's memory.
func (r *Result) decode(b []byte) error {
	rd := mpReader{b: b}
	n, err := rd.mapLen()
	if err != nil {
		return err
	}
	var s strFields
	for range n {
		k, err := rd.str()
		if err != nil {
			return err
		}
		var v []byte
		switch string(k) {
		case "id":
			v, err = rd.str()
			s.add(v, &r.ID)
		case "payload":
			r.Payload, err = rd.str()
		case "blob":
			v, err = rd.str()
			s.add(v, &r.Blob)
		case "error":
			r.Error, err = rd.spError()
		default:
			err = rd.skip(0)
		}
		if err != nil {
			return fmt.Errorf("field %s: %w", k, err)
		}
	}
	s.copyOut()
	return nil
}

// spError reads a {code, message} map, or nil.
func (r *mpReader) spError() (*spore.Error, error) {
	n, err := r.mapLen()
	if n < 0 || err != nil {
		return nil, err
	}
	var code, msg string
	for range n {
		k, err := r.str()
		if err != nil {
			return nil, err
		}
		var v []byte
		switch string(k) {
		case "code":
			v, err = r.str()
			code = string(v)
		case "message":
			v, err = r.str()
			msg = string(v)
		default:
			err = r.skip(0)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return &spore.Error{Code: spore.Code(code), Message: msg}, nil
}

// encBufs holds encoding buffers: NATS copies a message into its
// connection's buffer before Publish or Request returns, so one buffer
// serves call after call.
var encBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf is the largest buffer kept for reuse; a large payload's
// buffer goes to the garbage collector.
const maxPooledBuf = 64 << 10

// getBuf returns an empty buffer with room for n bytes; putBuf gives it
// back once its contents were published.
func getBuf(n int) *[]byte {
	b := encBufs.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, 0, n)
	}
	*b = (*b)[:0]
	return b
}

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		encBufs.Put(b)
	}
}

// strFields gathers the string fields of one decode, to copy them out of
// the input in one allocation at the end.
type strFields struct {
	n    int
	size int
	view [12][]byte
	dst  [12]*string
}

func (s *strFields) add(v []byte, dst *string) {
	if len(v) == 0 || s.n == len(s.view) {
		*dst = string(v)
		return
	}
	s.view[s.n], s.dst[s.n] = v, dst
	s.n++
	s.size += len(v)
}

// copyOut sets the gathered fields; of a key given twice, the last wins.
func (s *strFields) copyOut() {
	if s.n == 0 {
		return
	}
	var sb strings.Builder
	sb.Grow(s.size)
	for _, v := range s.view[:s.n] {
		sb.Write(v)
	}
	all, off := sb.String(), 0
	for i, v := range s.view[:s.n] {
		*s.dst[i] = all[off : off+len(v)]
		off += len(v)
	}
}

// MessagePack format bytes (github.com/msgpack/msgpack/blob/master/spec.md).
const (
	mpNil     = 0xc0
	mpBin8    = 0xc4
	mpBin16   = 0xc5
	mpBin32   = 0xc6
	mpUint8   = 0xcc
	mpUint16  = 0xcd
	mpUint32  = 0xce
	mpUint64  = 0xcf
	mpInt8    = 0xd0
	mpInt16   = 0xd1
	mpInt32   = 0xd2
	mpInt64   = 0xd3
	mpStr8    = 0xd9
	mpStr16   = 0xda
	mpStr32   = 0xdb
	mpArray16 = 0xdc
	mpArray32 = 0xdd
	mpMap16   = 0xde
	mpMap32   = 0xdf
)

func appendMapLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, mpMap16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, mpMap32), uint32(n))
}

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

// appendBin writes nil as MessagePack nil, as msgpack's EncodeBytes does.
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

func appendInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n < 128, n < 0 && n >= -32:
		return append(b, byte(n))
	case n >= 0:
		return binary.BigEndian.AppendUint64(append(b, mpUint64), uint64(n))
	}
	return binary.BigEndian.AppendUint64(append(b, mpInt64), uint64(n))
}

// appendStrMap writes a nil map as MessagePack nil.
func appendStrMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, mpNil)
	}
	b = appendMapLen(b, len(m))
	for k, v := range m {
		b = appendStr(appendStr(b, k), v)
	}
	return b
}

// mpReader reads MessagePack values from bytes without copying them.
type mpReader struct {
	b []byte
	i int
}

var (
	errTruncated = errors.New("msgpack: truncated")
	errTooDeep   = errors.New("msgpack: nested too deep")
)

// mpMaxDepth bounds nesting in skipped values, so hostile input cannot
// exhaust the stack.
const mpMaxDepth = 32

func (r *mpReader) next(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)-r.i) {
		return nil, errTruncated
	}
	v := r.b[r.i : r.i+int(n) : r.i+int(n)]
	r.i += int(n)
	return v, nil
}

func (r *mpReader) code() (byte, error) {
	if r.i >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

// uint reads a big-endian unsigned integer of size bytes.
func (r *mpReader) uint(size int) (uint64, error) {
	v, err := r.next(uint64(size))
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, c := range v {
		n = n<<8 | uint64(c)
	}
	return n, nil
}

// mapLen reads a map header; nil reads as -1.
func (r *mpReader) mapLen() (int, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	var n uint64
	switch {
	case c >= 0x80 && c <= 0x8f:
		return int(c & 0x0f), nil
	case c == mpNil:
		return -1, nil
	case c == mpMap16:
		n, err = r.uint(2)
	case c == mpMap32:
		n, err = r.uint(4)
	default:
		return 0, fmt.Errorf("msgpack: code %#x is not a map", c)
	}
	return int(n), err
}

// str reads a str or a bin, as msgpack's DecodeString and DecodeBytes do;
// nil reads as nil. The result shares the input's memory.
func (r *mpReader) str() ([]byte, error) {
	c, err := r.code()
	if err != nil {
		return nil, err
	}
	if c >= 0xa0 && c <= 0xbf {
		return r.next(uint64(c & 0x1f))
	}
	var n uint64
	switch c {
	case mpNil:
		return nil, nil
	case mpStr8, mpBin8:
		n, err = r.uint(1)
	case mpStr16, mpBin16:
		n, err = r.uint(2)
	case mpStr32, mpBin32:
		n, err = r.uint(4)
	default:
		return nil, fmt.Errorf("msgpack: code %#x is not a string", c)
	}
	if err != nil {
		return nil, err
	}
	return r.next(n)
}

func (r *mpReader) int64() (int64, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	switch {
	case c <= 0x7f, c >= 0xe0:
		return int64(int8(c)), nil
	case c == mpNil:
		return 0, nil
	}
	var n uint64
	switch c {
	case mpUint8, mpInt8:
		n, err = r.uint(1)
	case mpUint16, mpInt16:
		n, err = r.uint(2)
	case mpUint32, mpInt32:
		n, err = r.uint(4)
	case mpUint64, mpInt64:
		n, err = r.uint(8)
	default:
		return 0, fmt.Errorf("msgpack: code %#x is not an integer", c)
	}
	switch c {
	case mpInt8:
		return int64(int8(n)), err
	case mpInt16:
		return int64(int16(n)), err
	case mpInt32:
		return int64(int32(n)), err
	case mpUint64:
		if n > math.MaxInt64 {
			return 0, fmt.Errorf("msgpack: %d overflows int64", n)
		}
	}
	return int64(n), err
}

// strMap reads a map of strings, or nil.
func (r *mpReader) strMap() (map[string]string, error) {
	n, err := r.mapLen()
	if n < 0 || err != nil {
		return nil, err
	}
	// Each entry takes at least two bytes: do not trust n further.
	m := make(map[string]string, min(n, (len(r.b)-r.i)/2))
	for range n {
		k, err := r.str()
		if err != nil {
			return nil, err
		}
		v, err := r.str()
		if err != nil {
			return nil, err
		}
		m[string(k)] = string(v)
	}
	return m, nil
}

// skip reads past one value of any type.
func (r *mpReader) skip(depth int) error {
	if depth > mpMaxDepth {
		return errTooDeep
	}
	c, err := r.code()
	if err != nil {
		return err
	}
	var size uint64 // bytes of data after the code and any length
	items := uint64(0)
	switch {
	case c <= 0x7f, c >= 0xe0, c == mpNil, c == 0xc2, c == 0xc3:
		return nil
	case c >= 0x80 && c <= 0x8f:
		items = 2 * uint64(c&0x0f)
	case c >= 0x90 && c <= 0x9f:
		items = uint64(c & 0x0f)
	case c >= 0xa0 && c <= 0xbf:
		size = uint64(c & 0x1f)
	case c == mpBin8, c == mpStr8:
		size, err = r.uint(1)
	case c == mpBin16, c == mpStr16:
		size, err = r.uint(2)
	case c == mpBin32, c == mpStr32:
		size, err = r.uint(4)
	case c == 0xc7, c == 0xc8, c == 0xc9: // ext 8, 16, 32: length, type, data
		size, err = r.uint(1 << (c - 0xc7))
		size++
	case c == 0xca, c == mpUint32, c == mpInt32:
		size = 4
	case c == 0xcb, c == mpUint64, c == mpInt64:
		size = 8
	case c == mpUint8, c == mpInt8:
		size = 1
	case c == mpUint16, c == mpInt16:
		size = 2
	case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16: type, data
		size = 1 + 1<<(c-0xd4)
	case c == mpArray16:
		items, err = r.uint(2)
	case c == mpArray32:
		items, err = r.uint(4)
	case c == mpMap16:
		items, err = r.uint(2)
		items *= 2
	case c == mpMap32:
		items, err = r.uint(4)
		items *= 2
	default: // 0xc1, never used
		return fmt.Errorf("msgpack: invalid code %#x", c)
	}
	if err != nil {
		return err
	}
	if _, err := r.next(size); err != nil {
		return err
	}
	for range items {
		if err := r.skip(depth + 1); err != nil {
			return err
		}
	}
	return nil
}
