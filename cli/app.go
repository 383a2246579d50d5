package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/lattice"
)

func init() { extraCommands = append(extraCommands, appCommand) }

func appCommand(g *globals) *cobra.Command {
	return latticeGroup(g, "app", "Deploy declarative applications: actors, providers and links placed by labels",
		appDeployCommand, appLsCommand, appStatusCommand, appUndeployCommand)
}

// appPoll is how often deploy and undeploy look at the app while waiting.
const appPoll = 500 * time.Millisecond

// appWait is how deploy and undeploy wait: --no-wait and --timeout.
type appWait struct {
	noWait  bool
	timeout time.Duration
}

func addAppWait(cmd *cobra.Command, stored, done string) *appWait {
	w := &appWait{}
	cmd.Flags().BoolVar(&w.noWait, "no-wait", false, "return once the manifest is "+stored)
	cmd.Flags().DurationVar(&w.timeout, "timeout", 2*time.Minute, "how long to wait for "+done)
	return w
}

func appDeployCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var wait *appWait
	cmd := &cobra.Command{
		Use:   "deploy FILE [--no-wait] [--timeout D]",
		Short: "Validate an app manifest, store it in the lattice and wait until it runs",
		Long: `Deploy an application described in a YAML manifest (docs/apps.md).

The manifest is checked first, and every problem is reported at once with its
line and field. An actor ref that is a local file is pushed to the lattice's
artifact store (a relative path is taken from the manifest's folder). The
manifest is then stored in the lattice, where the app reconciler, which runs
on every host, places the actors and providers and makes the links, and keeps
them there as hosts come and go. Deploying a new version of an app rolls it
forward.

The command shows progress and returns when every instance runs, or, after
--timeout, says what is missing (the app stays deployed and the reconciler
keeps trying). --no-wait returns once the manifest is stored.`,
		Example: `  spore app deploy examples/edge-cloud/app.yaml
  spore app deploy app.yaml --no-wait -o json`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			source, err := os.ReadFile(a[0])
			if err != nil {
				return fmt.Errorf("app deploy: %w", err)
			}
			m, err := lattice.ParseManifest(a[0], source)
			var bad lattice.ManifestErrors
			if errors.As(err, &bad) {
				return fmt.Errorf("app deploy: %s: %d problem(s), nothing deployed:\n%w", a[0], len(bad), err)
			}
			if err != nil {
				return err
			}
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				return appDeploy(cmd, g, c, a[0], source, m, wait)
			})
		},
	}
	wait = addAppWait(cmd, "stored", "the app to be deployed")
	return cmd
}

func appDeploy(cmd *cobra.Command, g *globals, c *lattice.Client, file string, source []byte, m *lattice.Manifest, wait *appWait) error {
	ctx, cancel := withTimeout(cmd.Context(), wait.timeout)
	defer cancel()
	if err := pushAppRefs(cmd, g, c, filepath.Dir(file), m); err != nil {
		return err
	}
	rec, err := c.DeployApp(ctx, m, source)
	if err != nil {
		return fmt.Errorf("app deploy %s: %w", m.Name, err)
	}
	g.progress(cmd, "stored app %s version %s", m.Name, m.Version)
	if wait.noWait {
		return g.emit(cmd, appSummary{Name: m.Name, Version: m.Version, State: "stored", DeployedAt: rec.DeployedAt}, func(w io.Writer) {
			row(w, "App", m.Name)
			row(w, "Version", m.Version)
			row(w, "Stored", rec.DeployedAt.Format(time.RFC3339))
		})
	}
	st, err := waitApp(ctx, cmd, g, c, m.Name, func(st *lattice.AppStatus) bool {
		return st != nil && st.Version == m.Version && st.State == lattice.AppDeployed
	})
	if err != nil {
		if st != nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("app %s is not deployed after %s: %s\n(the manifest stays stored and the reconciler keeps trying: see 'spore app status %s')",
				m.Name, wait.timeout, missing(st), m.Name)
		}
		return fmt.Errorf("app deploy %s: %w", m.Name, err)
	}
	return emitAppStatus(cmd, g, c, st)
}

// pushAppRefs pushes the actor refs that are local files and puts the
// artifact's name:version in their place.
func pushAppRefs(cmd *cobra.Command, g *globals, c *lattice.Client, dir string, m *lattice.Manifest) error {
	var errs []string
	for i := range m.Actors {
		a := &m.Actors[i]
		path := a.Ref
		if !filepath.IsAbs(path) {
			if _, err := os.Stat(filepath.Join(dir, path)); err == nil {
				path = filepath.Join(dir, path)
			}
		}
		ref, local, err := refOrFile(path)
		if err != nil {
			errs = append(errs, fmt.Sprintf("actors[%d].ref: %v", i, err))
			continue
		}
		if !local {
			continue
		}
		art, err := pushFile(cmd, g, c, ref)
		if err != nil {
			errs = append(errs, fmt.Sprintf("actors[%d].ref: %v", i, err))
			continue
		}
		a.Ref = art.Ref
	}
	if len(errs) > 0 {
		return fmt.Errorf("app deploy: %s", strings.Join(errs, "\n"))
	}
	return nil
}

// waitApp polls the app's status, telling the user what changes, until
// done says so or ctx ends. A nil status means the app is gone.
func waitApp(ctx context.Context, cmd *cobra.Command, g *globals, c *lattice.Client, name string, done func(*lattice.AppStatus) bool) (*lattice.AppStatus, error) {
	var last string
	var st *lattice.AppStatus
	start := time.Now()
	warned := false
	for {
		all, err := c.AppStatuses(ctx, name)
		switch {
		case spore.CodeOf(err) == spore.CodeNotFound:
			st = nil
		case err != nil && ctx.Err() != nil:
			return st, ctx.Err()
		case err != nil:
			return st, err
		default:
			st = &all[0]
		}
		if done(st) {
			return st, nil
		}
		if st != nil {
			if p := progressLine(st); p != last {
				g.progress(cmd, "%s", p)
				last = p
			}
		}
		if !warned && time.Since(start) > lattice.LeaseTTL+lattice.LeaseRenew {
			if leader, err := c.AppReconciler(ctx); err == nil && leader == "" {
				g.progress(cmd, "no host runs the app reconciler yet: is any host up? ('spore host ls')")
			}
			warned = true
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(appPoll):
		}
	}
}

// progressLine sums a status up in one line.
func progressLine(st *lattice.AppStatus) string {
	var parts []string
	for _, a := range st.Actors {
		var spreads []string
		for _, s := range a.Spreads {
			spreads = append(spreads, fmt.Sprintf("%s %d/%d", s.Name, s.Running, s.Desired))
		}
		p := fmt.Sprintf("%s %d/%d running (%s)", a.Name, a.Running, a.Desired, strings.Join(spreads, ", "))
		if a.Outdated > 0 {
			p += fmt.Sprintf(", %d of the previous version", a.Outdated)
		}
		parts = append(parts, p)
	}
	for _, p := range st.Providers {
		parts = append(parts, fmt.Sprintf("provider %s %d/%d hosts", p.Name, p.Running, len(p.Hosts)))
	}
	line := st.Name + " " + st.State + ": " + strings.Join(parts, "; ")
	if len(st.Problems) > 0 {
		line += "\n  waiting: " + strings.Join(st.Problems, "\n  waiting: ")
	}
	return line
}

// missing says what keeps an app from being deployed.
func missing(st *lattice.AppStatus) string {
	if len(st.Problems) > 0 {
		return strings.Join(st.Problems, "; ")
	}
	return progressLine(st)
}

func appUndeployCommand(g *globals, lf *latticeFlags) *cobra.Command {
	var wait *appWait
	cmd := &cobra.Command{
		Use:   "undeploy NAME [--no-wait] [--timeout D]",
		Short: "Remove an app: every actor, provider and link it made, and nothing else",
		Long: `Remove an app's manifest from the lattice. The reconciler then stops the
actors and providers the app started (they carry the app's annotations) and
deletes the links it made; actors, providers and links started by hand are
left alone. The command waits until all of it is gone, unless --no-wait.`,
		Example: `  spore app undeploy shop`,
		Args:    args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			return lf.withClient(cmd, false, func(c *lattice.Client) error { return appUndeploy(cmd, g, c, a[0], wait) })
		},
	}
	wait = addAppWait(cmd, "removed", "everything the app made to go")
	return cmd
}

func appUndeploy(cmd *cobra.Command, g *globals, c *lattice.Client, name string, wait *appWait) error {
	ctx, cancel := withTimeout(cmd.Context(), wait.timeout)
	defer cancel()
	if err := c.UndeployApp(ctx, name); err != nil {
		return fmt.Errorf("app undeploy: %w", err)
	}
	g.progress(cmd, "removed app %s from the lattice", name)
	out := appSummary{Name: name, State: "undeployed"}
	if wait.noWait {
		out.State = lattice.AppUndeploying
	} else if st, err := waitApp(ctx, cmd, g, c, name, func(st *lattice.AppStatus) bool { return st == nil }); err != nil {
		if st != nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("app %s: not everything it made is gone after %s: %s", name, wait.timeout, missing(st))
		}
		return fmt.Errorf("app undeploy %s: %w", name, err)
	}
	return g.emit(cmd, out, func(w io.Writer) { row(w, "App", name); row(w, "State", out.State) })
}

// appSummary is one app in 'app ls'.
type appSummary struct {
	Name       string    `json:"name"`
	Version    string    `json:"version,omitempty"`
	State      string    `json:"state"`
	Desired    int       `json:"desired_instances"`
	Running    int       `json:"running_instances"`
	DeployedAt time.Time `json:"deployed_at,omitzero"`
	Problems   []string  `json:"problems,omitempty"`
}

func appLsCommand(g *globals, lf *latticeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the apps deployed in the lattice, with their state",
		Args:  args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lf.withClient(cmd, false, func(c *lattice.Client) error { return appLs(cmd, g, c) })
		},
	}
}

func appLs(cmd *cobra.Command, g *globals, c *lattice.Client) error {
	all, err := c.AppStatuses(cmd.Context())
	if err != nil {
		return fmt.Errorf("app ls: %w", err)
	}
	out := []appSummary{}
	for _, st := range all {
		s := appSummary{Name: st.Name, Version: st.Version, State: st.State, DeployedAt: st.DeployedAt, Problems: st.Problems}
		for _, a := range st.Actors {
			s.Desired += a.Desired
			s.Running += a.Running
		}
		out = append(out, s)
	}
	return g.emit(cmd, out, func(w io.Writer) {
		row(w, "NAME", "VERSION", "STATE", "INSTANCES", "DEPLOYED")
		for _, s := range out {
			deployed := "-"
			if !s.DeployedAt.IsZero() {
				deployed = s.DeployedAt.Local().Format(time.DateTime)
			}
			row(w, s.Name, orDash(s.Version), s.State, fmt.Sprintf("%d/%d", s.Running, s.Desired), deployed)
		}
	})
}

func appStatusCommand(g *globals, lf *latticeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status NAME",
		Short: "Show an app's desired state against what runs, per spread",
		Args:  args(1, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			return lf.withClient(cmd, false, func(c *lattice.Client) error {
				all, err := c.AppStatuses(cmd.Context(), a[0])
				if err != nil {
					return fmt.Errorf("app status: %w", err)
				}
				return emitAppStatus(cmd, g, c, &all[0])
			})
		},
	}
}

// appStatusOut is 'app status' with -o json.
type appStatusOut struct {
	lattice.AppStatus
	Reconciler string `json:"reconciler,omitempty"`
}

func emitAppStatus(cmd *cobra.Command, g *globals, c *lattice.Client, st *lattice.AppStatus) error {
	out := appStatusOut{AppStatus: *st}
	out.Reconciler, _ = c.AppReconciler(cmd.Context())
	return g.emit(cmd, out, func(w io.Writer) { appStatusTable(w, out) })
}

func appStatusTable(w io.Writer, st appStatusOut) {
	row(w, "App", st.Name+" "+st.Version)
	row(w, "State", st.State)
	if !st.DeployedAt.IsZero() {
		row(w, "Deployed", st.DeployedAt.Local().Format(time.DateTime))
	}
	row(w, "Reconciler", orDash(short(st.Reconciler)))
	if len(st.Actors) > 0 {
		row(w)
		row(w, "ACTOR", "SPREAD", "REQUIREMENTS", "DESIRED", "RUNNING", "HOSTS")
		for _, a := range st.Actors {
			for _, s := range a.Spreads {
				var hosts []string
				for _, h := range s.Hosts {
					hosts = append(hosts, fmt.Sprintf("%s:%d/%d", short(h.Host), h.Running, h.Desired))
				}
				if s.Problem != "" {
					hosts = append(hosts, s.Problem)
				}
				row(w, a.Name, s.Name, joinOrDash(lattice.SortedLabels(s.Requirements)), s.Desired, s.Running, joinOrDash(hosts))
			}
			if a.Outdated > 0 {
				row(w, a.Name, "(previous version)", "-", 0, a.Outdated, "-")
			}
		}
	}
	if len(st.Providers) > 0 {
		row(w)
		row(w, "PROVIDER", "REQUIREMENTS", "HOSTS", "RUNNING")
		for _, p := range st.Providers {
			hosts := slices.Clone(p.Hosts)
			for i := range hosts {
				hosts[i] = short(hosts[i])
			}
			row(w, p.Name, joinOrDash(lattice.SortedLabels(p.Requirements)), joinOrDash(hosts), fmt.Sprintf("%d/%d", p.Running, len(p.Hosts)))
		}
	}
	if len(st.Links) > 0 {
		row(w)
		row(w, "LINK", "PROVIDER", "LINK NAME", "ACTOR", "PRESENT")
		for _, l := range st.Links {
			row(w, l.Contract, l.Provider, l.LinkName, short(l.Actor), l.Present)
		}
	}
	if len(st.Problems) > 0 {
		row(w)
		row(w, "PROBLEMS")
		for _, p := range st.Problems {
			row(w, "- "+p)
		}
	}
}
