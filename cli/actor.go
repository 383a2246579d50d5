package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/lattice"
)

func actorCommand(g *globals) *cobra.Command {
	return latticeGroup(g, "actor", "Start, stop, scale and list actors in a lattice",
		actorStartCommand, actorStopCommand, actorScaleCommand, actorLsCommand)
}

// actorRow is one actor on one host, as actor start, scale and ls show it.
type actorRow struct {
	lattice.ActorInfo
	Invocations uint64 `json:"invocations"`
	Failures    uint64 `json:"failures"`
}

func actorTable(w io.Writer, rows []actorRow) {
	row(w, "ACTOR", "ID", "HOST", "INSTANCES", "INVOCATIONS", "FAILURES")
	for _, r := range rows {
		row(w, r.Name, r.ID, short(r.HostID), r.Instances, r.Invocations, r.Failures)
	}
}

func rowOf(ai lattice.ActorInfo) actorRow {
	r := actorRow{ActorInfo: ai}
	if ai.Stats != nil {
		r.Invocations, r.Failures = ai.Stats.Invocations, ai.Stats.Failures
	}
	return r
}

func actorStartCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var (
		instances int
		place     *placement
	)
	cmd := &cobra.Command{
		Use:   "start REF [--instances N] [--constraint k=v]... [--host ID]",
		Short: "Start an actor on the best host, and wait until it runs",
		Long: `Start an actor from the lattice's artifact store. REF is name:version, name or
sha256:digest; a local file is pushed first. Without --host, the hosts whose
labels hold every --constraint bid, and the least loaded one starts the actor.
The command returns when the actor runs, or fails with the host's reason (bad
claims, an untrusted issuer, no host matching the constraints, ...). On a host
that already runs the same module, the instances are added.`,
		Example: `  spore actor start hello:r1
  spore actor start ./hello_s.wasm --instances 4 --constraint zone=edge`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := place.check(cmd); err != nil {
				return err
			}
			if instances < 1 {
				return usageError{cmd.CommandPath(), fmt.Errorf("--instances %d: want 1 or more", instances)}
			}
			ref, local, err := refOrFile(a[0])
			if err != nil {
				return err
			}
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				ctx, cancel := place.withTimeout(cmd)
				defer cancel()
				if local {
					art, err := pushFile(cmd, g, c, ref)
					if err != nil {
						return err
					}
					ref = art.Ref
				}
				hostID, err := place.host(cmd, g, c, lattice.Auction{})
				if err != nil {
					return err
				}
				g.progress(cmd, "starting %s on host %s", ref, short(hostID))
				ai, err := c.StartActor(ctx, lattice.StartActor{Ref: ref, Instances: instances}, nil, hostID)
				if err != nil {
					return fmt.Errorf("actor start %s: %w", ref, err)
				}
				return g.emit(cmd, ai, func(w io.Writer) { actorTable(w, []actorRow{rowOf(*ai)}) })
			})
		},
	}
	cmd.Flags().IntVar(&instances, "instances", 1, "how many instances may run at once on the host")
	place = addPlacement(cmd)
	return cmd
}

// refOrFile tells a local file (to push) from an artifact reference.
func refOrFile(ref string) (string, bool, error) {
	if st, err := os.Stat(ref); err == nil && st.Mode().IsRegular() {
		return ref, true, nil
	}
	if strings.HasSuffix(ref, ".wasm") || strings.ContainsAny(ref, `/\`) {
		return "", false, fmt.Errorf("%s: no such file (a REF in the lattice looks like name:version or sha256:…)", ref)
	}
	return ref, false, nil
}

// targetHosts returns the hosts an operation on an actor or provider acts
// on: the one --host names, or every host that runs it.
func targetHosts(ctx context.Context, c *lattice.Client, hostRef string, running func([]lattice.HostInfo) []lattice.HostInfo) ([]string, error) {
	if hostRef != "" {
		id, err := c.ResolveHost(ctx, hostRef)
		return []string{id}, err
	}
	hosts, err := c.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, h := range running(hosts) {
		ids = append(ids, h.ID)
	}
	return ids, nil
}

func actorStopCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var hostRef string
	cmd := &cobra.Command{
		Use:   "stop ACTOR [--host ID]",
		Short: "Stop an actor on one host, or on every host that runs it",
		Long: `Stop an actor, named by id, call alias or claims name: on the --host given,
or else on every host that runs it. In-flight calls finish first.`,
		Example: `  spore actor stop hello
  spore actor stop hello --host NCXW2E`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				ctx := cmd.Context()
				id, hosts, err := actorHosts(ctx, c, a[0], hostRef)
				if err != nil {
					return err
				}
				type stopped struct {
					ActorID string `json:"actor_id"`
					HostID  string `json:"host_id"`
				}
				var done []stopped
				for _, h := range hosts {
					if err := c.StopActor(ctx, h, id); err != nil {
						return fmt.Errorf("actor stop %s on host %s: %w", a[0], short(h), err)
					}
					done = append(done, stopped{id, h})
				}
				return g.emit(cmd, done, func(w io.Writer) {
					row(w, "STOPPED", "HOST")
					for _, s := range done {
						row(w, s.ActorID, short(s.HostID))
					}
				})
			})
		},
	}
	cmd.Flags().StringVar(&hostRef, "host", "", "only on this host (an id or a unique start of one)")
	return cmd
}

// actorHosts resolves an actor name and the hosts to act on: --host, or
// every host running it (an error when none does).
func actorHosts(ctx context.Context, c *lattice.Client, actor, hostRef string) (string, []string, error) {
	id, err := c.State().ResolveActor(ctx, actor)
	if err != nil {
		return "", nil, err
	}
	hosts, err := targetHosts(ctx, c, hostRef, func(h []lattice.HostInfo) []lattice.HostInfo { return lattice.HostsRunningActor(h, id) })
	if err != nil {
		return "", nil, err
	}
	if len(hosts) == 0 {
		return "", nil, spore.Errorf(spore.CodeNotFound, "actor %q runs on no host (see 'spore actor ls')", actor)
	}
	return id, hosts, nil
}

func actorScaleCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var hostRef string
	cmd := &cobra.Command{
		Use:   "scale ACTOR N [--host ID]",
		Short: "Set how many instances of an actor a host keeps",
		Long: `Set the number of instances of a running actor: on the --host given, or else
on every host that runs it (N on each). N = 0 stops it there.`,
		Example: `  spore actor scale hello 8
  spore actor scale hello 0 --host NCXW2E`,
		Args: args(2, 2),
		RunE: func(cmd *cobra.Command, a []string) error {
			n, err := strconv.Atoi(a[1])
			if err != nil || n < 0 {
				return usageError{cmd.CommandPath(), fmt.Errorf("instance count %q: want 0 or more", a[1])}
			}
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				ctx := cmd.Context()
				id, hosts, err := actorHosts(ctx, c, a[0], hostRef)
				if err != nil {
					return err
				}
				rows := []actorRow{}
				name := c.ActorNames(ctx)[id]
				for _, h := range hosts {
					ai, err := c.ScaleActor(ctx, h, id, n)
					if err != nil {
						return fmt.Errorf("actor scale %s on host %s: %w", a[0], short(h), err)
					}
					if ai == nil || ai.ID == "" { // scaled to 0: stopped
						ai = &lattice.ActorInfo{ID: id, Name: name, HostID: h}
					}
					rows = append(rows, rowOf(*ai))
				}
				return g.emit(cmd, rows, func(w io.Writer) { actorTable(w, rows) })
			})
		},
	}
	cmd.Flags().StringVar(&hostRef, "host", "", "only on this host (an id or a unique start of one)")
	return cmd
}

func actorLsCommand(g *globals, lf *latticeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the actors running in the lattice, with their counters",
		Long: `List every actor on every host that answers: one row per actor and host, with
its instances and how many invocations it served and failed there.`,
		Example: `  spore actor ls`,
		Args:    args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lf.withClient(cmd, true, func(c *lattice.Client) error {
				hosts, err := c.Inventories(cmd.Context())
				if err != nil {
					return err
				}
				rows := []actorRow{}
				for _, h := range hosts {
					for _, ai := range h.Actors {
						rows = append(rows, rowOf(ai))
					}
				}
				sort.Slice(rows, func(i, j int) bool {
					if rows[i].Name != rows[j].Name {
						return rows[i].Name < rows[j].Name
					}
					return rows[i].HostID < rows[j].HostID
				})
				return g.emit(cmd, rows, func(w io.Writer) { actorTable(w, rows) })
			})
		},
	}
}
