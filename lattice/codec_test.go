package lattice

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
)

// reflective mirrors Invocation without the custom codec, to check that the
// hand-written one speaks the same map.
type reflective struct {
	ID         string            `msgpack:"id"`
	Origin     string            `msgpack:"origin"`
	OriginName string            `msgpack:"origin_name,omitempty"`
	Target     string            `msgpack:"target"`
	Operation  string            `msgpack:"operation"`
	Payload    []byte            `msgpack:"payload"`
	Blob       string            `msgpack:"blob,omitempty"`
	Link       *spore.Link       `msgpack:"link,omitempty"`
	Trace      map[string]string `msgpack:"trace,omitempty"`
	Deadline   int64             `msgpack:"deadline,omitempty"`
	Issuer     string            `msgpack:"issuer"`
	Token      []byte            `msgpack:"token"`
}

func TestInvocationCodec(t *testing.T) {
	tests := []Invocation{
		{ID: "1", Origin: "client", Target: "U123", Operation: "Echo", Payload: []byte("hi"), Issuer: "C1", Token: []byte{1, 2}},
		{ID: "2", Origin: "U1", OriginName: "caller", Target: "keyvalue", Operation: "KeyValue.Get", Payload: []byte{},
			Blob: "b", Link: &spore.Link{ActorID: "U1", Contract: "spore:keyvalue", LinkName: "default", Provider: "keyvalue", Values: map[string]string{"bucket": "x"}},
			Trace: map[string]string{"traceparent": "00-abc"}, Deadline: 1234567890123, Issuer: "C1", Token: []byte("t")},
	}
	for _, inv := range tests {
		t.Run(inv.ID, func(t *testing.T) {
			custom, err := msgpack.Marshal(&inv)
			if err != nil {
				t.Fatal(err)
			}
			// The reflective codec reads what the custom one wrote...
			var r reflective
			if err := msgpack.Unmarshal(custom, &r); err != nil {
				t.Fatal(err)
			}
			if r.ID != inv.ID || r.Operation != inv.Operation || !bytes.Equal(r.Payload, inv.Payload) || r.Deadline != inv.Deadline || !reflect.DeepEqual(r.Link, inv.Link) {
				t.Fatalf("reflective read %+v from %+v", r, inv)
			}
			// ...and the custom one reads what the reflective one wrote.
			plain, _ := msgpack.Marshal(&r)
			got, err := DecodeInvocation(plain)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Fields(), inv.Fields()) || !bytes.Equal(got.Token, inv.Token) {
				t.Fatalf("round trip changed the invocation: %+v", got)
			}
		})
	}
}

func TestResultCodec(t *testing.T) {
	for _, r := range []Result{
		{Payload: []byte("ok")},
		{ID: "i1", Payload: []byte("ok")},
		{ID: "i2", Blob: "x.result"},
		{Error: &spore.Error{Code: spore.CodeDenied, Message: "no"}},
	} {
		b, err := msgpack.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		var got Result
		if err := msgpack.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Payload, r.Payload) || got.ID != r.ID || got.Blob != r.Blob || (r.Error != nil && (got.Error == nil || *got.Error != *r.Error)) {
			t.Fatalf("got %+v, want %+v", got, r)
		}
		if id := resultID(b); string(id) != r.ID {
			t.Fatalf("resultID = %q, want %q", id, r.ID)
		}
	}
}

// TestDecodeAnyEncoding: the hand-written decoder reads what other
// MessagePack libraries may write for the same map: str for bin and the
// reverse, other integer widths, large strings, nil values, unknown keys
// holding any type, a key given twice.
func TestDecodeAnyEncoding(t *testing.T) {
	long := strings.Repeat("o", 70000)
	tests := []struct {
		name  string
		write func(e *msgpack.Encoder)
		check func(inv *Invocation) bool
	}{
		{"str payload, int32 deadline", func(e *msgpack.Encoder) {
			_ = e.EncodeMapLen(5)
			_ = e.EncodeString("target")
			_ = e.EncodeString("U1")
			_ = e.EncodeString("operation")
			_ = e.EncodeBytes([]byte("Op")) // bin where str is due
			_ = e.EncodeString("payload")
			_ = e.EncodeString("as str")
			_ = e.EncodeString("deadline")
			_ = e.EncodeInt32(-5)
			_ = e.EncodeString("token")
			_ = e.EncodeString("tk")
		}, func(inv *Invocation) bool {
			return inv.Target == "U1" && inv.Operation == "Op" && string(inv.Payload) == "as str" && inv.Deadline == -5 && string(inv.Token) == "tk"
		}},
		{"unknown keys of every kind, a key twice", func(e *msgpack.Encoder) {
			_ = e.EncodeMapLen(9)
			_ = e.EncodeString("target")
			_ = e.EncodeString("first")
			_ = e.EncodeString("x-array")
			_ = e.Encode([]any{1, "two", 3.5, []byte{4}, map[string]any{"five": nil, "six": true}})
			_ = e.EncodeString("x-ext")
			_ = e.Encode(time.Unix(1, 2))
			_ = e.EncodeString("x-uint64")
			_ = e.EncodeUint64(1 << 63)
			_ = e.EncodeString("x-float")
			_ = e.EncodeFloat32(1.5)
			_ = e.EncodeString("target")
			_ = e.EncodeString("second")
			_ = e.EncodeString("operation")
			_ = e.EncodeString(long)
			_ = e.EncodeString("deadline")
			_ = e.EncodeUint64(1 << 40)
			_ = e.EncodeString("payload")
			_ = e.EncodeNil()
		}, func(inv *Invocation) bool {
			return inv.Target == "second" && inv.Operation == long && inv.Deadline == 1<<40 && inv.Payload == nil
		}},
		{"link with nil values, trace", func(e *msgpack.Encoder) {
			_ = e.EncodeMapLen(4)
			_ = e.EncodeString("target")
			_ = e.EncodeString("kv")
			_ = e.EncodeString("operation")
			_ = e.EncodeString("KeyValue.Get")
			_ = e.EncodeString("link")
			_ = e.Encode(map[string]any{"actor_id": "U1", "provider": "kv", "values": nil, "extra": []int{1}})
			_ = e.EncodeString("trace")
			_ = e.Encode(map[string]string{"traceparent": "00-x"})
		}, func(inv *Invocation) bool {
			return inv.Link != nil && inv.Link.ActorID == "U1" && inv.Link.Provider == "kv" && inv.Link.Values == nil && inv.Trace["traceparent"] == "00-x"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.write(msgpack.NewEncoder(&buf))
			inv, err := DecodeInvocation(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(inv) {
				t.Fatalf("decoded %+v", inv)
			}
		})
	}
}

// TestDecodeTruncated: every strict prefix of a good envelope or result is
// an error, never a panic or a partial success.
func TestDecodeTruncated(t *testing.T) {
	inv := Invocation{ID: "1", Origin: "o", OriginName: "n", Target: "t", Operation: "Op", Payload: bytes.Repeat([]byte("p"), 300),
		Link:  &spore.Link{ActorID: "a", Contract: "spore:x", Values: map[string]string{"k": "v"}},
		Trace: map[string]string{"traceparent": "x"}, Deadline: 1 << 50, Issuer: "C", Token: []byte("t")}
	res := Result{Payload: []byte("p"), Blob: "b", Error: &spore.Error{Code: spore.CodeDenied, Message: "m"}}
	for name, b := range map[string][]byte{"invocation": inv.appendMsgpack(nil), "result": res.appendMsgpack(nil)} {
		t.Run(name, func(t *testing.T) {
			for i := range len(b) {
				var err error
				if name == "invocation" {
					_, err = DecodeInvocation(b[:i])
				} else {
					err = new(Result).decode(b[:i])
				}
				if err == nil {
					t.Fatalf("%d of %d bytes decoded without an error", i, len(b))
				}
			}
		})
	}
}

// FuzzDecodeInvocation feeds untrusted bytes to the envelope decoder, as a
// peer on the lattice could.
func FuzzDecodeInvocation(f *testing.F) {
	inv := Invocation{ID: "1", Origin: "o", Target: "t", Operation: "Op", Payload: []byte("p"),
		Link:  &spore.Link{ActorID: "a", Contract: "spore:x", Values: map[string]string{"k": "v"}},
		Trace: map[string]string{"traceparent": "x"}, Deadline: 9, Issuer: "C", Token: []byte("t")}
	good, _ := msgpack.Marshal(&inv)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0x80})
	f.Add([]byte{0xc0})
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte("garbage"))
	f.Add((&Result{Payload: []byte("p"), Error: &spore.Error{Code: spore.CodeDenied, Message: "m"}}).appendMsgpack(nil))
	f.Add([]byte{0x81, 0xa1, 'x', 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0xc0})
	f.Add((&Result{ID: "i", Payload: []byte("p")}).appendMsgpack(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		if r.decode(b) == nil {
			var r2 Result
			if err := r2.decode(r.appendMsgpack(nil)); err != nil || !bytes.Equal(r.Payload, r2.Payload) || r.Blob != r2.Blob || r.ID != r2.ID {
				t.Fatalf("result re-decode: %v", err)
			}
			if id := resultID(b); string(id) != r.ID {
				t.Fatalf("resultID = %q, decode read %q", id, r.ID)
			}
		}
		inv, err := DecodeInvocation(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same hash.
		again, err := msgpack.Marshal(inv)
		if err != nil {
			t.Fatal(err)
		}
		inv2, err := DecodeInvocation(again)
		if err != nil || !bytes.Equal(inv.Fields(), inv2.Fields()) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
