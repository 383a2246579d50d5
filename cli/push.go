package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/signing"
)

func pushCommand(g *globals) *cobra.Command {
	var lf *latticeFlags
	cmd := &cobra.Command{
		Use:   "push ACTOR.wasm",
		Short: "Store a signed actor in the lattice's artifact store",
		Long: `Verify a signed actor's claims and store it in the lattice's artifact store
(a JetStream object store), where every host can fetch it. It is addressed by
name:version (the claims' version, or r<revision> without one), by name
alone (the latest push) and by digest (sha256:…). The lattice records the
actor's claims too, so links can name it before it first starts.`,
		Example: `  spore push hello_s.wasm
  spore actor start hello:r1`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				art, err := pushFile(cmd, g, c, a[0])
				if err != nil {
					return err
				}
				return g.emit(cmd, art, func(w io.Writer) {
					row(w, "Ref", art.Ref)
					row(w, "Digest", art.Digest)
					row(w, "Actor", art.Name+" ("+art.ActorID+")")
					row(w, "Size", fmt.Sprintf("%d bytes", art.Size))
				})
			})
		},
	}
	lf = addLatticeFlags(g, cmd)
	return cmd
}

// pushFile pushes a signed module from a file, showing the bytes sent.
func pushFile(cmd *cobra.Command, g *globals, c *lattice.Client, path string) (*lattice.Artifact, error) {
	module, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	if _, err := signing.Verify(module, signing.VerifyOptions{}); err != nil {
		return nil, fmt.Errorf("push %s: %w (sign it with 'spore sign')", path, err)
	}
	g.progress(cmd, "pushing %s (%d bytes)", path, len(module))
	art, _, err := c.PushActor(cmd.Context(), module, pushProgress(cmd, g))
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", path, err)
	}
	return art, nil
}

// pushProgress reports the bytes sent at each further tenth of the module.
func pushProgress(cmd *cobra.Command, g *globals) func(sent, total int) {
	next := 0
	return func(sent, total int) {
		if total == 0 || sent*10/total < next {
			return
		}
		next = sent*10/total + 1
		g.progress(cmd, "sent %d of %d bytes (%d%%)", sent, total, sent*100/total)
	}
}
