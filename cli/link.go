package cli

import (
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/lattice"
)

func linkCommand(g *globals) *cobra.Command {
	return latticeGroup(g, "link", "Bind actors to the providers of their contracts",
		linkPutCommand, linkDelCommand, linkLsCommand)
}

// linkRow is a link with its actor's name, for display.
type linkRow struct {
	spore.Link
	ActorName string `json:"actor_name,omitempty"`
}

func linkTable(w io.Writer, rows []linkRow) {
	row(w, "ACTOR", "CONTRACT", "LINK NAME", "PROVIDER", "VALUES")
	for _, l := range rows {
		name := l.ActorName
		if name == "" {
			name = l.ActorID
		}
		row(w, name, l.Contract, spore.LinkName(l.LinkName), l.Provider, joinOrDash(lattice.SortedLabels(l.Values)))
	}
}

func linkPutCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var provider, linkName string
	cmd := &cobra.Command{
		Use:   "put ACTOR CONTRACT [--provider P] [--link-name L] k=v...",
		Short: "Bind an actor's use of a contract to a provider, with values",
		Long: `Store a link: ACTOR (id, call alias or claims name) uses CONTRACT through
provider P (default: the contract's name, such as keyvalue for
spore:keyvalue) under link name L (default "default"), configured with the
k=v values. The provider checks the values first. Links live in the lattice
state: every host sees them, and they outlast restarts.`,
		Example: `  spore link put counter spore:keyvalue bucket=counts
  spore link put api spore:httpserver address=127.0.0.1:8080`,
		Args: args(2, -1),
		RunE: func(cmd *cobra.Command, a []string) error {
			values, err := parsePairs("link value", a[2:], false)
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				l, err := c.PutLink(cmd.Context(), spore.Link{
					ActorID: a[0], Contract: a[1], LinkName: linkName, Provider: provider, Values: values,
				})
				if err != nil {
					return err
				}
				rows := []linkRow{{Link: *l, ActorName: c.ActorNames(cmd.Context())[l.ActorID]}}
				return g.emit(cmd, rows[0], func(w io.Writer) { linkTable(w, rows) })
			})
		},
	}
	cmd.Flags().StringVar(&provider, "provider", "", "the provider that serves the link (default: the contract's name)")
	cmd.Flags().StringVar(&linkName, "link-name", "", `the link name, for an actor with several links of one contract (default "default")`)
	return cmd
}

func linkDelCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var linkName string
	cmd := &cobra.Command{
		Use:     "del ACTOR CONTRACT [--link-name L]",
		Short:   "Remove a link",
		Example: `  spore link del counter spore:keyvalue`,
		Args:    args(2, 2),
		RunE: func(cmd *cobra.Command, a []string) error {
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				l := spore.Link{ActorID: a[0], Contract: a[1], LinkName: linkName}
				if err := c.DeleteLink(cmd.Context(), l); err != nil {
					return err
				}
				res := struct {
					Actor    string `json:"actor"`
					Contract string `json:"contract"`
					LinkName string `json:"link_name"`
					Deleted  bool   `json:"deleted"`
				}{a[0], a[1], spore.LinkName(linkName), true}
				return g.emit(cmd, res, func(w io.Writer) {
					row(w, "DELETED", "CONTRACT", "LINK NAME")
					row(w, res.Actor, res.Contract, res.LinkName)
				})
			})
		},
	}
	cmd.Flags().StringVar(&linkName, "link-name", "", `the link name (default "default")`)
	return cmd
}

func linkLsCommand(g *globals, lf *latticeFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Short:   "List the lattice's links",
		Example: `  spore link ls`,
		Args:    args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				links, err := c.Links(cmd.Context())
				if err != nil {
					return err
				}
				names := c.ActorNames(cmd.Context())
				rows := make([]linkRow, len(links))
				for i, l := range links {
					rows[i] = linkRow{l, names[l.ActorID]}
				}
				sort.Slice(rows, func(i, j int) bool {
					return strings.Compare(rows[i].ActorName+rows[i].Key(), rows[j].ActorName+rows[j].Key()) < 0
				})
				return g.emit(cmd, rows, func(w io.Writer) { linkTable(w, rows) })
			})
		},
	}
}
