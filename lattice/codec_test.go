package lattice

import (
	"bytes"
	"reflect"
	"testing"

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
			if !bytes.Equal(got.Hash(), inv.Hash()) || !bytes.Equal(got.Token, inv.Token) {
				t.Fatalf("round trip changed the invocation: %+v", got)
			}
		})
	}
}

func TestResultCodec(t *testing.T) {
	for _, r := range []Result{
		{Payload: []byte("ok")},
		{Blob: "x.result"},
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
		if !bytes.Equal(got.Payload, r.Payload) || got.Blob != r.Blob || (r.Error != nil && (got.Error == nil || *got.Error != *r.Error)) {
			t.Fatalf("got %+v, want %+v", got, r)
		}
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
	f.Fuzz(func(t *testing.T, b []byte) {
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
		if err != nil || !bytes.Equal(inv.Hash(), inv2.Hash()) {
			t.Fatalf("re-decode: %v", err)
		}
		var r Result
		_ = msgpack.Unmarshal(b, &r)
	})
}
