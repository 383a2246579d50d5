package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore/lattice"
	// Every built-in provider can run in its own process; httpserver,
	// keyvalue and logging are linked in by providers.go.
	_ "github.com/spore-run/spore/providers/httpclient"
	_ "github.com/spore-run/spore/providers/messaging"
)

// attachProviderRun adds 'provider run' to the provider group built by
// provider.go.
func attachProviderRun(root *cobra.Command, g *globals) {
	if group, _, err := root.Find([]string{"provider"}); err == nil && group != root {
		group.AddCommand(providerRunCommand(g))
	}
}

// providerRunInfo is what 'provider run' prints when it serves.
type providerRunInfo struct {
	Provider string `json:"provider"`
	ID       string `json:"id"`
	Lattice  string `json:"lattice"`
	NATSURL  string `json:"nats_url"`
}

func providerRunCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "run NAME [--nats URL] [--lattice L] [--cluster-seed S]",
		Short: "Run one provider in this process, serving the lattice until stopped",
		Long: `Run a built-in provider (httpserver, keyvalue, messaging, httpclient,
logging) as a process of its own, outside any host. It joins the lattice at
--nats, applies every link that names the provider, serves actors on any host
through the lattice (spore.rpc.<lattice>.<provider>.<link name>) and calls
actors with invocations signed by the cluster key. An HTTP server on an edge
machine can so front an actor that runs in the cloud, and the reverse.

It runs until Ctrl-C or SIGTERM. 'spore provider ls' lists it; 'spore link
put' asks it to apply a link before storing it, like any host that runs the
provider. A host runs the same command itself for 'spore provider start
--process', and supervises it.`,
		Example: `  spore provider run httpserver --nats nats://hub.example.com:4222
  SPORE_CLUSTER_SEED=$(cat cluster.nk) spore provider run keyvalue --nats nats://10.0.0.5:4222`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			seedFlag, _ := cmd.Flags().GetString("cluster-seed")
			seed, err := (&latticeFlags{g: g, seed: seedFlag}).clusterSeed()
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			supervised := os.Getenv(lattice.EnvSupervised) == "1"
			var ann map[string]string
			if h := os.Getenv("SPORE_PROVIDER_HOST"); supervised && h != "" {
				ann = map[string]string{"process": "supervised", "host_id": h}
			}
			ctx := cmd.Context()
			sctx, cancel := context.WithTimeout(ctx, connectTimeout)
			pp, err := lattice.ServeProvider(sctx, lattice.ProviderProcessOptions{
				Name: a[0], NATSURL: g.natsURL, Lattice: g.lattice, ClusterSeed: seed,
				Annotations: ann, Log: g.logger(cmd.ErrOrStderr()),
			})
			cancel()
			if err != nil {
				return fmt.Errorf("provider run %s: %w", a[0], err)
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
				defer cancel()
				pp.Close(sctx)
			}()
			info := providerRunInfo{Provider: a[0], ID: pp.ID(), Lattice: g.lattice, NATSURL: g.natsURL}
			if supervised {
				// The host waits for this line, and owns this process's
				// stdin: when the host is gone, stdin ends, and so does this.
				fmt.Fprintf(cmd.OutOrStdout(), "%s%s\n", lattice.ReadyPrefix, pp.ID())
				go func() {
					_, _ = io.Copy(io.Discard, cmd.InOrStdin())
					pp.Close(context.Background())
				}()
			} else if err := g.emit(cmd, info, func(w io.Writer) {
				row(w, "PROVIDER", "ID", "LATTICE", "NATS")
				row(w, info.Provider, info.ID, info.Lattice, info.NATSURL)
			}); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				g.progress(cmd, "stopping provider %s", a[0])
			case <-pp.Done():
			}
			return nil
		},
	}
}
