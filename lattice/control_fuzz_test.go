package lattice

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// FuzzControl sends arbitrary bytes to every control operation of a live
// host, as any NATS client of the lattice could. The host must answer each
// with a result or an error and never panic (the handlers' recover would
// hide a panic from the network, so this calls them directly).
func FuzzControl(f *testing.F) {
	n, err := Start(context.Background(), Options{
		Server: ServerOptions{Listen: "127.0.0.1:-1", DataDir: f.TempDir()},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Apps:   AppControllerOptions{Disabled: true},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close(context.Background()) })
	ops := []string{OpInventory, OpActorStart, OpActorStop, OpActorScale, OpProviderStart, OpProviderStop,
		OpLabelsPut, OpLabelsDel, "nonsense", OpAuction, OpLinkPut, OpLinkDel}
	for i, seed := range []string{
		`{}`, `{"ref":"echo:1","instances":2}`, `{"actor":"echo"}`, `{"actor":"echo","instances":-5}`,
		`{"name":"nosuch"}`, `{"name":"logging"}`, `{"labels":{"zone":"x"}}`, `{"constraints":{"a":"b"}}`,
		`{"actor_id":"x","contract":"spore:keyvalue"}`, `{"actor_id":"x","contract":"nocolon"}`,
		`null`, `[]`, `"x"`, `{"ref":7}`, "\x00\xff",
	} {
		f.Add(uint8(i), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		switch op := ops[int(which)%len(ops)]; op {
		case OpAuction:
			n.handleAuction(ctx, op, data)
		case OpLinkPut:
			n.handleLinkPut(ctx, op, data)
		case OpLinkDel:
			n.handleLinkDel(ctx, op, data)
		default:
			n.handleHostOp(ctx, op, data)
		}
	})
}
