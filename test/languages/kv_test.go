package languages_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/providers"
	_ "github.com/spore-run/spore/providers/keyvalue"
)

// linkAll links every actor to every contract, for tests that run a host
// without a lattice; keyvalue calls go to the keyvalue provider.
var linkAll = host.LinkSourceFunc(func(actorID, contract, name string) (spore.Link, bool) {
	return kvLink(actorID, contract, name), true
})

func kvLink(actorID, contract, name string) spore.Link {
	return spore.Link{ActorID: actorID, Contract: contract, LinkName: spore.LinkName(name), Provider: "keyvalue"}
}

// kv is the keyvalue provider on JetStream of an embedded NATS server, with
// a host.Router to it.
type kv struct {
	*lattice.LocalProviders
	provider providers.Provider
}

func newKV(tb testing.TB) *kv {
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
	lp := lattice.NewLocalProviders()
	p, err := lp.Start(ctx, "keyvalue", providers.Env{Log: quiet, NATS: nc, Lattice: "languages"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lp.StopAll(context.Background()) })
	return &kv{LocalProviders: lp, provider: p}
}

// link applies an actor's default keyvalue link (its bucket is the
// provider's default, one per actor).
func (k *kv) link(tb testing.TB, actorID string) {
	tb.Helper()
	if err := k.provider.PutLink(context.Background(), kvLink(actorID, spore.ContractKeyValue, "")); err != nil {
		tb.Fatal(err)
	}
}
