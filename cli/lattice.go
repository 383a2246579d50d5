package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/lattice"
)

// The lattice commands (up, host, push, actor, provider, link, call,
// events) register here; root.go adds extraCommands in this order.
func init() {
	extraCommands = append(extraCommands,
		upCommand, hostCommand, pushCommand, actorCommand, providerCommand,
		linkCommand, callCommand, eventsCommand)
}

// connectTimeout bounds joining a lattice as a client: the NATS connection,
// opening the state buckets and reading the cluster key.
const connectTimeout = 10 * time.Second

// latticeFlags holds what a command needs to reach a lattice beyond the
// global --nats and --lattice: the cluster key, when the lattice uses an
// explicit one.
type latticeFlags struct {
	g    *globals
	seed string
}

// addLatticeFlags gives cmd and its subcommands --cluster-seed.
func addLatticeFlags(g *globals, cmd *cobra.Command) *latticeFlags {
	l := &latticeFlags{g: g}
	cmd.PersistentFlags().StringVar(&l.seed, "cluster-seed", os.Getenv("SPORE_CLUSTER_SEED"),
		"the lattice's cluster key, a seed (SC…) or a file holding one, when the lattice uses an explicit key (env SPORE_CLUSTER_SEED)")
	return l
}

// clusterSeed returns the seed itself, reading it from a file when the
// flag names one.
func (l *latticeFlags) clusterSeed() (string, error) {
	v := strings.TrimSpace(l.seed)
	if v == "" {
		return "", nil
	}
	if _, err := nkeys.FromSeed([]byte(v)); err == nil {
		return v, nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("--cluster-seed: not a seed, and not a file holding one: %w", err)
	}
	seed := strings.TrimSpace(string(b))
	if _, err := nkeys.FromSeed([]byte(seed)); err != nil {
		return "", fmt.Errorf("--cluster-seed %s: %w", v, err)
	}
	return seed, nil
}

// connect joins the lattice named by --nats and --lattice as a client. The
// caller closes the client.
func (l *latticeFlags) connect(cmd *cobra.Command) (*lattice.Client, error) {
	seed, err := l.clusterSeed()
	if err != nil {
		return nil, usageError{cmd.CommandPath(), err}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), connectTimeout)
	defer cancel()
	c, err := lattice.Connect(ctx, lattice.ClientOptions{
		URL: l.g.natsURL, Lattice: l.g.lattice, ClusterSeed: seed, Name: "spore " + cmd.CommandPath(),
	})
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		return nil, fmt.Errorf("lattice %q at %s: the lattice state (JetStream) is out of reach: %w\n"+
			"On a leaf host, the link to its hub may be down: its actors keep serving, and 'host ls', "+
			"'actor ls' and 'provider ls' still work here", l.g.lattice, l.g.natsURL, err)
	}
	if err != nil {
		return nil, fmt.Errorf("lattice %q at %s: %w", l.g.lattice, l.g.natsURL, err)
	}
	return c, nil
}

// connectControl joins the lattice for its control interface only (see
// lattice.ConnectControl): commands that read no lattice state use it, so
// they work on a leaf host cut off from its hub, and need no cluster key.
func (l *latticeFlags) connectControl(cmd *cobra.Command) (*lattice.Client, error) {
	if _, err := l.clusterSeed(); err != nil {
		return nil, usageError{cmd.CommandPath(), err}
	}
	c, err := lattice.ConnectControl(lattice.ClientOptions{
		URL: l.g.natsURL, Lattice: l.g.lattice, Name: "spore " + cmd.CommandPath(),
	})
	if err != nil {
		return nil, fmt.Errorf("lattice %q at %s: %w", l.g.lattice, l.g.natsURL, err)
	}
	return c, nil
}

// withClient connects, with the lattice state or (control) without it,
// runs f and closes the client.
func (l *latticeFlags) withClient(cmd *cobra.Command, control bool, f func(c *lattice.Client) error) error {
	connect := l.connect
	if control {
		connect = l.connectControl
	}
	c, err := connect(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	return f(c)
}

// group makes a command that only holds subcommands. Run bare, it shows
// its help; with an unknown subcommand, it is a usage error.
func group(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args: func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return usageError{cmd.CommandPath(), fmt.Errorf("unknown command %q for %q", a[0], cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
}

// latticeGroup is a group whose subcommands talk to a lattice: they share
// its lattice flags.
func latticeGroup(g *globals, use, short string, subs ...func(*globals, *latticeFlags) *cobra.Command) *cobra.Command {
	cmd := group(use, short)
	lf := addLatticeFlags(g, cmd)
	for _, sub := range subs {
		cmd.AddCommand(sub(g, lf))
	}
	return cmd
}

// parsePairs reads k=v arguments (labels, constraints, link values) into a
// map. With keysOnly, a bare key is allowed too (its value is empty).
func parsePairs(what string, in []string, keysOnly bool) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for _, p := range in {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if k == "" || (!ok && !keysOnly) {
			return nil, fmt.Errorf("%s %q: want key=value", what, p)
		}
		out[k] = v
	}
	return out, nil
}

// short cuts a long key (host or actor id) for tables; commands accept any
// unique prefix of a host id.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// withTimeout bounds a command's work when d > 0.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

func joinOrDash(s []string) string { return orDash(strings.Join(s, ",")) }

// placement holds the flags that choose where something starts: --host, or
// --constraint for an auction, and a --timeout for the whole start.
type placement struct {
	constraints []string
	cons        map[string]string
	hostRef     string
	timeout     time.Duration
}

func addPlacement(cmd *cobra.Command) *placement {
	p := &placement{}
	f := cmd.Flags()
	f.StringArrayVar(&p.constraints, "constraint", nil, "a label k=v the host must carry (repeat)")
	f.StringVar(&p.hostRef, "host", "", "start on this host (an id or a unique start of one), skipping the auction")
	f.DurationVar(&p.timeout, "timeout", time.Minute, "give up after this long")
	return p
}

// check parses the flags, with usage errors.
func (p *placement) check(cmd *cobra.Command) error {
	var err error
	if p.cons, err = parsePairs("--constraint", p.constraints, false); err != nil {
		return usageError{cmd.CommandPath(), err}
	}
	if p.hostRef != "" && len(p.cons) > 0 {
		return usageError{cmd.CommandPath(), fmt.Errorf("--host and --constraint: give one (--host skips the auction)")}
	}
	return nil
}

// withTimeout bounds the command's context by --timeout.
func (p *placement) withTimeout(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, cancel := withTimeout(cmd.Context(), p.timeout)
	cmd.SetContext(ctx)
	return ctx, cancel
}

// host resolves --host, or runs an auction with the constraints and picks
// the least loaded bidder.
func (p *placement) host(cmd *cobra.Command, g *globals, c *lattice.Client, auction lattice.Auction) (string, error) {
	ctx := cmd.Context()
	if p.hostRef != "" {
		return c.ResolveHost(ctx, p.hostRef)
	}
	auction.Constraints = p.cons
	g.progress(cmd, "auction: asking hosts with %s", describePairs(p.cons))
	bids, err := c.Auction(ctx, auction)
	if err != nil {
		return "", err
	}
	if len(bids) == 0 {
		return "", spore.Errorf(spore.CodeUnavailable, "no host in lattice %q satisfies %s (see 'spore host ls')", g.lattice, describePairs(p.cons))
	}
	return bids[0].ID, nil
}

func describePairs(m map[string]string) string {
	if len(m) == 0 {
		return "no constraints"
	}
	return "the constraints " + strings.Join(lattice.SortedLabels(m), " ")
}
