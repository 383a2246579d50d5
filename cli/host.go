package cli

import (
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore/lattice"
)

func hostCommand(g *globals) *cobra.Command {
	return latticeGroup(g, "host", "List, label and stop the hosts of a lattice",
		hostLsCommand, hostStopCommand, hostLabelCommand)
}

// hostRow is one host in 'host ls -o json'.
type hostRow struct {
	lattice.HostInfo
	Uptime string `json:"uptime"`
}

func hostLsCommand(g *globals, lf *latticeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the hosts that answer a ping now",
		Long: `Ping the lattice and list every host that answers within a second: its id,
labels, how many actors and which providers it runs, and its uptime. A host
that died drops out at once, since the list is made from live answers.`,
		Example: `  spore host ls
  spore host ls -o json`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lf.withClient(cmd, true, func(c *lattice.Client) error {
				hosts, err := c.Hosts(cmd.Context())
				if err != nil {
					return err
				}
				if len(hosts) == 0 {
					g.progress(cmd, "no host of lattice %q answered; start one with 'spore up'", g.lattice)
				}
				rows := make([]hostRow, len(hosts))
				for i, h := range hosts {
					rows[i] = hostRow{h, time.Since(h.StartedAt).Round(time.Second).String()}
				}
				return g.emit(cmd, rows, func(w io.Writer) {
					row(w, "HOST", "LABELS", "ACTORS", "PROVIDERS", "UPTIME")
					for _, r := range rows {
						provs := make([]string, len(r.Providers))
						for i, p := range r.Providers {
							provs[i] = p.Name
						}
						row(w, r.ID, joinOrDash(lattice.SortedLabels(r.Labels)), len(r.Actors), joinOrDash(provs), r.Uptime)
					}
				})
			})
		},
	}
}

func hostStopCommand(g *globals, lf *latticeFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "stop HOST",
		Short:   "Ask a host to stop its actors and providers and exit",
		Long:    `Ask a host to shut down cleanly. HOST is a host id or a unique start of one.`,
		Example: `  spore host stop NCXW2E`,
		Args:    args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			return lf.withClient(cmd, true, func(c *lattice.Client) error {
				id, err := c.ResolveHost(cmd.Context(), a[0])
				if err != nil {
					return err
				}
				if err := c.StopHost(cmd.Context(), id); err != nil {
					return err
				}
				res := struct {
					HostID  string `json:"host_id"`
					Stopped bool   `json:"stopped"`
				}{id, true}
				return g.emit(cmd, res, func(w io.Writer) { row(w, "stopping host", id) })
			})
		},
	}
}

func hostLabelCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var remove bool
	cmd := &cobra.Command{
		Use:   "label HOST k=v... [--remove]",
		Short: "Add, change or remove a host's labels",
		Long: `Set labels on a running host, or with --remove take them off (give keys, or
k=v pairs whose values are ignored). Labels steer placement: 'actor start
--constraint k=v' only lands on hosts that carry k=v. They last until the host
stops; give them to 'spore up --label' to keep them.`,
		Example: `  spore host label NCXW2E zone=edge gpu=yes
  spore host label NCXW2E gpu --remove`,
		Args: args(2, -1),
		RunE: func(cmd *cobra.Command, a []string) error {
			labels, err := parsePairs("label", a[1:], remove)
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			return lf.withClient(cmd, true, func(c *lattice.Client) error {
				id, err := c.ResolveHost(cmd.Context(), a[0])
				if err != nil {
					return err
				}
				now, err := c.SetLabels(cmd.Context(), id, labels, remove)
				if err != nil {
					return err
				}
				res := struct {
					HostID string            `json:"host_id"`
					Labels map[string]string `json:"labels"`
				}{id, now}
				return g.emit(cmd, res, func(w io.Writer) {
					row(w, "HOST", "LABELS")
					row(w, id, strings.Join(lattice.SortedLabels(now), ","))
				})
			})
		},
	}
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the labels instead of setting them")
	return cmd
}
