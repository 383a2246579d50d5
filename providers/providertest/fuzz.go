package providertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
)

// FuzzHandle feeds arbitrary payloads to every operation of p, a started
// provider holding link l: each call answers or fails, never panics, and a
// failure carries a stable code. Seeds are added to the corpus along with
// the suite's garbage.
func FuzzHandle(f *testing.F, p providers.Provider, l spore.Link, ops []string, seeds ...[]byte) {
	for _, s := range append(garbagePayloads, seeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, op := range ops {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := p.Handle(ctx, &providers.Request{ActorID: l.ActorID, Link: l, Operation: op, Payload: payload})
			cancel()
			var se *spore.Error
			if err != nil && !errors.As(err, &se) {
				t.Fatalf("%s: error without a code: %v", op, err)
			}
		}
	})
}
