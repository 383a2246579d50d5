package lattice_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/signing"
)

// TestUpgradeKeepsServing: an actor upgraded in place (a higher revision
// started on the host that runs it) answers calls across the lattice at
// once, through the subscription the first revision made.
func TestUpgradeKeepsServing(t *testing.T) {
	ctx := context.Background()
	hub := startHub(t, nil)
	edge := startJoined(t, hub.ClientURL(), "default", nil)
	c := connect(t, hub.ClientURL(), "default")
	s := testkit.NewSigner(t)
	kp, err := signing.NewKey(signing.KindActor)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := kp.PublicKey()
	echo := testkit.WAT(t, "host/testdata/echo.wat")
	// Revision 2 differs by a custom section, so its hash differs.
	echo2 := append(append([]byte(nil), echo...), 0, 3, 1, 'x', 'y')
	for _, rev := range []struct {
		module   []byte
		revision int
	}{{echo, 1}, {echo2, 2}} {
		t.Run(fmt.Sprintf("revision %d", rev.revision), func(t *testing.T) {
			a := push(t, c, s.SignClaims(t, rev.module, signing.Claims{ID: id, Name: "echo", Revision: rev.revision}))
			if _, err := c.StartActor(ctx, lattice.StartActor{Ref: a.Ref, Instances: 1}, nil, edge.ID()); err != nil {
				t.Fatal(err)
			}
			if out, err := c.Call(ctx, "echo", "Echo", []byte("hi")); err != nil || string(out) != "hi" {
				t.Fatalf("call = %q, %v; want hi", out, err)
			}
		})
	}
}
