package keyvalue_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/providers/keyvalue"
	"github.com/spore-run/spore/providers/providertest"
)

// BenchmarkGet times KeyValue.Get of a 100-byte value made by an actor on
// a lattice host against the same Get made directly with nats.go, on one
// embedded NATS. The actor is the probe (WAT): its HostCall is one host call
// through the capability gate to the keyvalue provider in the host's
// process, so "actor" is the direct Get plus an invocation, the gate and the
// MessagePack on both sides. bench/providers.sh runs it with -count, which
// alternates the two.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	node, err := lattice.Start(ctx, lattice.Options{
		Server: lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: b.TempDir()}, Log: providertest.Quiet,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer node.Close(ctx)
	c, err := lattice.Connect(ctx, lattice.ClientOptions{URL: node.ClientURL()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s := testkit.NewSigner(b)
	art, err := c.Push(ctx, s.Sign(b, testkit.WAT(b, "providers/providertest/testdata/probe.wat"), "kvprobe", spore.ContractKeyValue), nil)
	if err != nil {
		b.Fatal(err)
	}
	ai, err := c.StartActor(ctx, lattice.StartActor{Ref: art.Ref}, nil, node.ID())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.StartProvider(ctx, lattice.StartProvider{Name: keyvalue.Name}, nil, node.ID()); err != nil {
		b.Fatal(err)
	}
	if _, err := c.PutLink(ctx, spore.Link{ActorID: ai.ID, Contract: spore.ContractKeyValue, Values: map[string]string{"bucket": "bench"}}); err != nil {
		b.Fatal(err)
	}
	js, _ := jetstream.New(node.Conn())
	kv, err := js.KeyValue(ctx, keyvalue.BucketName("default", "bench"))
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 100)
	if _, err := kv.Put(ctx, "k", value); err != nil {
		b.Fatal(err)
	}
	actor := node.Host().Actor(ai.ID)
	key, _ := msgpack.Marshal("k")
	var call []byte
	for _, s := range []string{"", spore.ContractKeyValue, spore.OpKVGet} {
		call = append(append(call, byte(len(s))), s...)
	}
	call = append(call, key...)

	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if e, err := kv.Get(ctx, "k"); err != nil || len(e.Value()) != len(value) {
				b.Fatal(err)
			}
		}
	})
	b.Run("actor", func(b *testing.B) {
		for b.Loop() {
			out, err := actor.Invoke(ctx, "HostCall", call)
			var r spore.GetResponse
			if err != nil || msgpack.Unmarshal(out, &r) != nil || len(r.Value) != len(value) {
				b.Fatal(err)
			}
		}
	})
}
