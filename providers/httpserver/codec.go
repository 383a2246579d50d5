package httpserver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
)

// The request and the response cross on every HTTP call, so they are
// encoded and decoded here by hand rather than by msgpack's reflection,
// which cost the provider about as much as the rest of its path. The wire
// format is what msgpack.Marshal writes for spore.HTTPRequest, and the
// decoder takes any MessagePack encoding of spore.HTTPResponse (any integer
// width, str or bin for the body, keys in any order, unknown keys skipped),
// as actors in other languages write it.

// appendRequest writes the request as the map {method, path, query,
// header, body}, the Host header included in header.
func appendRequest(b []byte, r *http.Request, body []byte) []byte {
	b = append(b, 0x85)
	b = appendStr(appendStr(b, "method"), r.Method)
	b = appendStr(appendStr(b, "path"), r.URL.Path)
	b = appendStr(appendStr(b, "query"), r.URL.RawQuery)
	b = appendStr(b, "header")
	n := len(r.Header)
	_, hostSet := r.Header["Host"]
	withHost := r.Host != "" && !hostSet
	if withHost {
		n++
	}
	b = appendLen(b, n, 0x80, 0xde)
	if withHost {
		b = appendStr(b, "Host")
		b = appendStr(append(b, 0x91), r.Host)
	}
	for k, vs := range r.Header {
		b = appendLen(appendStr(b, k), len(vs), 0x90, 0xdc)
		for _, v := range vs {
			b = appendStr(b, v)
		}
	}
	b = appendStr(b, "body")
	switch n := len(body); {
	case n <= 0xff:
		b = append(b, 0xc4, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, body...)
}

func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= 0xff:
		b = append(b, 0xd9, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// appendLen writes a map or array header: fix is 0x80 (map) or 0x90
// (array), code16 is 0xde or 0xdc; the 32-bit form follows it.
func appendLen(b []byte, n int, fix, code16 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, code16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, code16+1), uint32(n))
}

// decodeResponse reads an actor's spore.HTTPResponse.
func decodeResponse(data []byte) (*spore.HTTPResponse, error) {
	d := msgpack.GetDecoder()
	defer msgpack.PutDecoder(d)
	d.Reset(bytes.NewReader(data))
	var resp spore.HTTPResponse
	n, err := d.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	for range max(n, 0) {
		key, err := d.DecodeString()
		if err != nil {
			return nil, err
		}
		switch key {
		case "status":
			resp.Status, err = d.DecodeUint16()
		case "header":
			resp.Header, err = decodeHeader(d)
		case "body":
			resp.Body, err = d.DecodeBytes()
		default:
			err = d.Skip()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return &resp, nil
}

func decodeHeader(d *msgpack.Decoder) (map[string][]string, error) {
	n, err := d.DecodeMapLen()
	if err != nil || n <= 0 {
		return nil, err
	}
	h := make(map[string][]string, min(n, 64))
	for range n {
		k, err := d.DecodeString()
		if err != nil {
			return nil, err
		}
		m, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		vs := make([]string, 0, min(max(m, 0), 16))
		for range max(m, 0) {
			v, err := d.DecodeString()
			if err != nil {
				return nil, err
			}
			vs = append(vs, v)
		}
		h[k] = vs
	}
	return h, nil
}
