package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/providers/logging"
)

// version is reported by hosts; set it at build time with
// -ldflags "-X github.com/spore-run/spore/cli.version=v1.2.3".
var version = "dev"

// stopTimeout bounds a host's shutdown after Ctrl-C or a stop request.
const stopTimeout = 30 * time.Second

// upInfo is what spore up prints when the host is ready.
type upInfo struct {
	HostID    string            `json:"host_id"`
	Lattice   string            `json:"lattice"`
	Mode      string            `json:"mode"` // embedded, joined or leaf
	NATSURL   string            `json:"nats_url"`
	LeafURL   string            `json:"leaf_url,omitempty"`
	Upstream  string            `json:"upstream,omitempty"`
	DataDir   string            `json:"data_dir,omitempty"`
	Labels    map[string]string `json:"labels"`
	Providers []string          `json:"providers"`
}

func upCommand(g *globals) *cobra.Command {
	var (
		leaf, natsListen, leafListen, dataDir string
		labels, trusted                       []string
		heartbeat                             time.Duration
		lf                                    *latticeFlags
	)
	cmd := &cobra.Command{
		Use:   "up [--nats URL | --leaf URL] [--label k=v]...",
		Short: "Run a host: start or join a lattice and serve actors until stopped",
		Long: `Run a host in the foreground until Ctrl-C, SIGTERM or 'spore host stop'.

With no --nats or --leaf, the host runs an embedded NATS server with
JetStream (file store in --data-dir, default $SPORE_HOME/data/<lattice>):
clients and other hosts join it at its --nats-listen address, and edge hosts
join it as leaf nodes at --leaf-listen. With --nats URL the host joins an
existing NATS server (such as another host's embedded one) and runs none.
With --leaf URL it runs an embedded server as a leaf node of that URL: its
local actors keep serving local traffic while the link is down.

Only a --nats flag given to 'up' itself makes it join; SPORE_NATS is for
clients. The first host of a lattice makes its cluster key and keeps it in
the lattice state, unless --cluster-seed gives one. Every host runs the
logging provider. When ready, 'up' prints where it listens (with -o json,
one JSON object on stdout); logs go to stderr.`,
		Example: `  spore up                                          # first host, embedded NATS on 127.0.0.1:4222
  spore up --nats nats://127.0.0.1:4222 --label zone=lab   # a second host on the same machine
  spore up --leaf nats-leaf://hub.example.com:7422 --label zone=edge`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			join := ""
			if f.Changed("nats") {
				join = g.natsURL
			}
			usage := func(format string, a ...any) error {
				return usageError{cmd.CommandPath(), fmt.Errorf(format, a...)}
			}
			switch {
			case join != "" && leaf != "":
				return usage("--nats and --leaf: give one (--nats joins a NATS server, --leaf runs a leaf node of one)")
			case join != "" && (f.Changed("nats-listen") || f.Changed("leaf-listen")):
				return usage("--nats-listen and --leaf-listen: a host that joins %s runs no NATS server of its own", join)
			case leaf != "" && f.Changed("leaf-listen"):
				return usage("--leaf-listen: a leaf host does not accept leaf nodes itself; join the hub instead")
			}
			lbls, err := parsePairs("--label", labels, false)
			if err != nil {
				return usage("%v", err)
			}
			seed, err := lf.clusterSeed()
			if err != nil {
				return usage("%v", err)
			}
			if dataDir == "" {
				dataDir = filepath.Join(g.home, "data", g.lattice)
			}
			log := g.logger(cmd.ErrOrStderr())
			ctx := cmd.Context()
			g.progress(cmd, "starting a host in lattice %q", g.lattice)
			node, err := lattice.Start(ctx, lattice.Options{
				Lattice: g.lattice,
				NATSURL: join,
				Server: lattice.ServerOptions{
					Listen: natsListen, LeafListen: leafListen, LeafRemote: leaf, DataDir: dataDir,
				},
				Labels:         lbls,
				ClusterSeed:    seed,
				TrustedIssuers: splitList(trusted),
				CacheDir:       g.cacheDir(),
				Heartbeat:      heartbeat,
				Log:            log,
				Version:        version,
			})
			if err != nil {
				return fmt.Errorf("up: %w", err)
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
				defer cancel()
				node.Close(sctx)
			}()
			if _, err := node.StartProvider(ctx, lattice.StartProvider{Name: logging.Name}); err != nil {
				return fmt.Errorf("up: %w", err)
			}
			info := upInfo{
				HostID: node.ID(), Lattice: node.Lattice(), NATSURL: node.ClientURL(), LeafURL: node.LeafURL(),
				Labels: node.Labels(), Providers: []string{logging.Name},
			}
			switch {
			case join != "":
				info.Mode, info.Upstream = "joined", join
			case leaf != "":
				info.Mode, info.Upstream = "leaf", leaf
			default:
				info.Mode, info.DataDir = "embedded", dataDir
			}
			if err := g.emit(cmd, info, func(w io.Writer) { upTable(w, info) }); err != nil {
				return err
			}
			g.progress(cmd, "clients and hosts join with --nats %s", info.NATSURL)
			if info.LeafURL != "" {
				g.progress(cmd, "edge hosts join with: spore up --leaf %s", info.LeafURL)
			}
			g.progress(cmd, "host %s is up; Ctrl-C stops it", short(info.HostID))
			select {
			case <-ctx.Done():
				g.progress(cmd, "stopping")
			case <-node.Done():
				g.progress(cmd, "stopped on request")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&leaf, "leaf", "", "run the embedded NATS server as a leaf node of this URL (nats-leaf://HUB:7422)")
	f.StringVar(&natsListen, "nats-listen", "127.0.0.1:4222", "where the embedded NATS server accepts clients and hosts (port 0 picks one)")
	f.StringVar(&leafListen, "leaf-listen", "127.0.0.1:7422", "where the embedded NATS server accepts leaf nodes (port 0 picks one)")
	f.StringVar(&dataDir, "data-dir", "", "JetStream file store of the embedded server (default $SPORE_HOME/data/<lattice>)")
	f.StringArrayVar(&labels, "label", nil, "a host label k=v, added to os, arch and hostname (repeat)")
	f.StringArrayVar(&trusted, "trusted-issuer", nil, "refuse actors signed by any other account key (repeat)")
	f.DurationVar(&heartbeat, "heartbeat", lattice.DefaultHeartbeat, "how often the host announces itself on the lattice")
	lf = addLatticeFlags(g, cmd)
	return cmd
}

func upTable(w io.Writer, info upInfo) {
	row(w, "Host", info.HostID)
	row(w, "Lattice", info.Lattice)
	row(w, "Mode", info.Mode)
	row(w, "NATS", info.NATSURL)
	if info.LeafURL != "" {
		row(w, "Leaf", info.LeafURL)
	}
	if info.Upstream != "" {
		row(w, "Upstream", info.Upstream)
	}
	if info.DataDir != "" {
		row(w, "Data", info.DataDir)
	}
	row(w, "Labels", joinOrDash(lattice.SortedLabels(info.Labels)))
	row(w, "Providers", joinOrDash(info.Providers))
}
