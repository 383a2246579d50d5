package cli

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/lattice"
)

func providerCommand(g *globals) *cobra.Command {
	return latticeGroup(g, "provider", "Start, stop and list capability providers in a lattice",
		providerStartCommand, providerStopCommand, providerLsCommand)
}

func providerTable(w io.Writer, ps []lattice.ProviderInfo) {
	row(w, "PROVIDER", "CONTRACT", "HOST", "ANNOTATIONS")
	for _, p := range ps {
		row(w, p.Name, p.Contract, short(p.HostID), joinOrDash(lattice.SortedLabels(p.Annotations)))
	}
}

func providerStartCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var (
		linkName string
		process  bool
		place    *placement
	)
	cmd := &cobra.Command{
		Use:   "start NAME [--link-name L] [--constraint k=v]... [--host ID]",
		Short: "Start a built-in provider on the best host, and wait until it runs",
		Long: `Start a built-in provider (httpserver, keyvalue, messaging, httpclient,
logging) on --host, or on the least loaded host whose labels hold every
--constraint. It serves the links that name it, on every link name: actors on
any host reach it across the lattice. --link-name is recorded as the
annotation link_name (shown by 'provider ls'); it does not restrict the
provider. Starting one that already runs on that host is not an error.

With --process the host runs the provider as a child process ('spore provider
run') that it supervises: restarted with its links if it dies, and stopped
with the host.`,
		Example: `  spore provider start keyvalue --constraint zone=cloud`,
		Args:    args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := place.check(cmd); err != nil {
				return err
			}
			return lf.withClient(cmd, true, func(c *lattice.Client) error {
				ctx, cancel := place.withTimeout(cmd)
				defer cancel()
				hostID, err := place.host(cmd, g, c, lattice.Auction{Provider: a[0]})
				if err != nil {
					return err
				}
				req := lattice.StartProvider{Name: a[0], Process: process}
				if linkName != "" {
					req.Annotations = map[string]string{"link_name": linkName}
				}
				g.progress(cmd, "starting provider %s on host %s", a[0], short(hostID))
				pi, err := c.StartProvider(ctx, req, nil, hostID)
				if err != nil {
					return fmt.Errorf("provider start %s: %w", a[0], err)
				}
				return g.emit(cmd, pi, func(w io.Writer) { providerTable(w, []lattice.ProviderInfo{*pi}) })
			})
		},
	}
	cmd.Flags().StringVar(&linkName, "link-name", "", "the link name this provider is meant for (recorded only; it serves every link name)")
	cmd.Flags().BoolVar(&process, "process", false, "run it as a supervised child process of the host instead of in the host's process")
	place = addPlacement(cmd)
	return cmd
}

func providerStopCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var hostRef string
	cmd := &cobra.Command{
		Use:     "stop NAME [--host ID]",
		Short:   "Stop a provider on one host, or on every host that runs it",
		Example: `  spore provider stop keyvalue --host NCXW2E`,
		Args:    args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			return lf.withClient(cmd, true, func(c *lattice.Client) error {
				ctx := cmd.Context()
				hosts, err := targetHosts(ctx, c, hostRef, func(h []lattice.HostInfo) []lattice.HostInfo {
					return lattice.HostsRunningProvider(h, a[0])
				})
				if err != nil {
					return err
				}
				if len(hosts) == 0 {
					return spore.Errorf(spore.CodeNotFound, "provider %q runs on no host (see 'spore provider ls')", a[0])
				}
				var done []lattice.ProviderInfo
				for _, h := range hosts {
					if err := c.StopProvider(ctx, h, a[0]); err != nil {
						return fmt.Errorf("provider stop %s on host %s: %w", a[0], short(h), err)
					}
					done = append(done, lattice.ProviderInfo{Name: a[0], HostID: h})
				}
				return g.emit(cmd, done, func(w io.Writer) {
					row(w, "STOPPED", "HOST")
					for _, p := range done {
						row(w, p.Name, short(p.HostID))
					}
				})
			})
		},
	}
	cmd.Flags().StringVar(&hostRef, "host", "", "only on this host (an id or a unique start of one)")
	return cmd
}

func providerLsCommand(g *globals, lf *latticeFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Short:   "List the providers running in the lattice, in hosts and as processes",
		Example: `  spore provider ls`,
		Args:    args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lf.withClient(cmd, true, func(c *lattice.Client) error {
				hosts, err := c.Hosts(cmd.Context())
				if err != nil {
					return err
				}
				ps := []lattice.ProviderInfo{}
				seen := map[string]bool{}
				for _, h := range hosts {
					for _, p := range h.Providers {
						seen[p.Name+"@"+p.HostID] = true
						ps = append(ps, p)
					}
				}
				// Provider processes (supervised or started by hand with
				// 'spore provider run') are in the runners registry only.
				if runners, err := c.Providers(cmd.Context()); err == nil {
					for _, p := range runners {
						if !seen[p.Name+"@"+p.HostID] {
							ps = append(ps, p)
						}
					}
				}
				sort.SliceStable(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
				return g.emit(cmd, ps, func(w io.Writer) { providerTable(w, ps) })
			})
		},
	}
}
