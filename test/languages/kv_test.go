package languages_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/lattice"
)

// linkAll links every actor to every contract, for tests that run a host
// without a lattice.
var linkAll = host.LinkSourceFunc(func(actorID, contract, name string) (spore.Link, bool) {
	return spore.Link{ActorID: actorID, Contract: contract, LinkName: name, Provider: "keyvalue"}, true
})

// newKV serves KeyValue.Increment from a JetStream KV bucket on an embedded
// NATS server.
func newKV(tb testing.TB) host.Router {
	tb.Helper()
	ctx := context.Background()
	srv, err := lattice.StartServer(lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: tb.TempDir(), Log: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "counters", Storage: jetstream.MemoryStorage})
	if err != nil {
		tb.Fatal(err)
	}
	return host.RouterFunc(func(ctx context.Context, c *host.Call) ([]byte, error) {
		if c.Namespace != spore.ContractKeyValue || c.Operation != spore.OpKVIncrement {
			return nil, fmt.Errorf("kv: %s %s is not served here", c.Namespace, c.Operation)
		}
		var req spore.IncrementRequest
		if err := msgpack.Unmarshal(c.Payload, &req); err != nil {
			return nil, fmt.Errorf("kv: %w", err)
		}
		for {
			var n int64
			var rev uint64
			e, err := kv.Get(ctx, req.Key)
			switch {
			case errors.Is(err, jetstream.ErrKeyNotFound):
			case err != nil:
				return nil, fmt.Errorf("kv: %w", err)
			default:
				if n, err = strconv.ParseInt(string(e.Value()), 10, 64); err != nil {
					return nil, fmt.Errorf("kv: %w", err)
				}
				rev = e.Revision()
			}
			n += req.Delta
			v := []byte(strconv.FormatInt(n, 10))
			if rev == 0 {
				_, err = kv.Create(ctx, req.Key, v)
			} else {
				_, err = kv.Update(ctx, req.Key, v, rev)
			}
			if err == nil {
				return msgpack.Marshal(n)
			}
		}
	})
}
