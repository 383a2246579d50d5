package lattice

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
)

// Invocations and results are encoded by hand rather than by reflection:
// they are on every call's path, and the reflective codec cost more than the
// rest of the envelope handling together. The wire format is the same map
// either way (docs/protocol.md).

// Interface guards
var (
	_ msgpack.CustomEncoder = (*Invocation)(nil)
	_ msgpack.CustomDecoder = (*Invocation)(nil)
	_ msgpack.CustomEncoder = (*Result)(nil)
	_ msgpack.CustomDecoder = (*Result)(nil)
)

// EncodeMsgpack implements msgpack.CustomEncoder.
func (inv *Invocation) EncodeMsgpack(e *msgpack.Encoder) error {
	n := 7 // id, origin, target, operation, payload, issuer, token
	for _, present := range []bool{inv.OriginName != "", inv.Blob != "", inv.Link != nil, len(inv.Trace) > 0, inv.Deadline != 0} {
		if present {
			n++
		}
	}
	if err := e.EncodeMapLen(n); err != nil {
		return err
	}
	str := func(k, v string) {
		_ = e.EncodeString(k)
		_ = e.EncodeString(v)
	}
	str("id", inv.ID)
	str("origin", inv.Origin)
	if inv.OriginName != "" {
		str("origin_name", inv.OriginName)
	}
	str("target", inv.Target)
	str("operation", inv.Operation)
	_ = e.EncodeString("payload")
	_ = e.EncodeBytes(inv.Payload)
	if inv.Blob != "" {
		str("blob", inv.Blob)
	}
	if inv.Link != nil {
		_ = e.EncodeString("link")
		_ = e.Encode(inv.Link)
	}
	if len(inv.Trace) > 0 {
		_ = e.EncodeString("trace")
		_ = e.Encode(inv.Trace)
	}
	if inv.Deadline != 0 {
		_ = e.EncodeString("deadline")
		_ = e.EncodeInt(inv.Deadline)
	}
	str("issuer", inv.Issuer)
	_ = e.EncodeString("token")
	return e.EncodeBytes(inv.Token)
}

// DecodeMsgpack implements msgpack.CustomDecoder. Unknown keys are skipped,
// so newer peers may add fields.
func (inv *Invocation) DecodeMsgpack(d *msgpack.Decoder) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("invocation is nil")
	}
	for range n {
		k, err := d.DecodeString()
		if err != nil {
			return err
		}
		switch k {
		case "id":
			inv.ID, err = d.DecodeString()
		case "origin":
			inv.Origin, err = d.DecodeString()
		case "origin_name":
			inv.OriginName, err = d.DecodeString()
		case "target":
			inv.Target, err = d.DecodeString()
		case "operation":
			inv.Operation, err = d.DecodeString()
		case "payload":
			inv.Payload, err = d.DecodeBytes()
		case "blob":
			inv.Blob, err = d.DecodeString()
		case "link":
			var l *spore.Link
			err = d.Decode(&l)
			inv.Link = l
		case "trace":
			err = d.Decode(&inv.Trace)
		case "deadline":
			inv.Deadline, err = d.DecodeInt64()
		case "issuer":
			inv.Issuer, err = d.DecodeString()
		case "token":
			inv.Token, err = d.DecodeBytes()
		default:
			err = d.Skip()
		}
		if err != nil {
			return fmt.Errorf("field %s: %w", k, err)
		}
	}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (r *Result) EncodeMsgpack(e *msgpack.Encoder) error {
	n := 1
	if r.Blob != "" {
		n++
	}
	if r.Error != nil {
		n++
	}
	if err := e.EncodeMapLen(n); err != nil {
		return err
	}
	_ = e.EncodeString("payload")
	_ = e.EncodeBytes(r.Payload)
	if r.Blob != "" {
		_ = e.EncodeString("blob")
		_ = e.EncodeString(r.Blob)
	}
	if r.Error != nil {
		_ = e.EncodeString("error")
		_ = e.EncodeMapLen(2)
		_ = e.EncodeString("code")
		_ = e.EncodeString(string(r.Error.Code))
		_ = e.EncodeString("message")
		return e.EncodeString(r.Error.Message)
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (r *Result) DecodeMsgpack(d *msgpack.Decoder) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return err
	}
	for range n {
		k, err := d.DecodeString()
		if err != nil {
			return err
		}
		switch k {
		case "payload":
			r.Payload, err = d.DecodeBytes()
		case "blob":
			r.Blob, err = d.DecodeString()
		case "error":
			var e *spore.Error
			err = d.Decode(&e)
			r.Error = e
		default:
			err = d.Skip()
		}
		if err != nil {
			return fmt.Errorf("field %s: %w", k, err)
		}
	}
	return nil
}
