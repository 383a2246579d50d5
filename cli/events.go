package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/signing"
)

func eventsCommand(g *globals) *cobra.Command {
	var (
		types []string
		actor string
		count int
		lf    *latticeFlags
	)
	cmd := &cobra.Command{
		Use:   "events [--type T]... [--actor A] [--count N]",
		Short: "Watch the lattice's events live",
		Long: `Print the lattice's events as they happen, one line each (time, type, source
and the gist of the data), or with -o json one CloudEvents JSON object per
line. --type keeps only the given types (actor_started, or a pattern such as
'actor_*'; repeat for several). --actor keeps only the events about one actor
(by id, call alias or claims name). Ctrl-C stops; so does --count N after N
events.

Types: host_started, host_stopped, host_heartbeat, actor_started,
actor_stopped, actor_scaled, actor_failed, provider_started,
provider_stopped, link_put, link_deleted, labels_changed,
invocation_rejected, control_rejected.`,
		Example: `  spore events
  spore events --type 'actor_*' --actor hello -o json`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, t := range types {
				if _, err := path.Match(t, ""); err != nil {
					return usageError{cmd.CommandPath(), fmt.Errorf("--type %q: %w", t, err)}
				}
			}
			if count < 0 {
				return usageError{cmd.CommandPath(), fmt.Errorf("--count %d: want 1 or more (0: no limit)", count)}
			}
			// Events need no lattice state, so they can be watched on a leaf
			// host cut off from its hub; only naming an actor reads it.
			f := eventFilter{types: types, actor: actor}
			connect := lf.connectControl
			if actor != "" && !signing.IsActorID(actor) {
				connect = lf.connect
			}
			c, err := connect(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			switch {
			case signing.IsActorID(actor):
				f.actorID = actor
			case actor != "":
				// An actor that never ran has no claims yet: match its
				// name as given.
				f.actorID, _ = c.State().ResolveActor(ctx, actor)
			}
			w, err := c.WatchEvents()
			if err != nil {
				return err
			}
			defer w.Close()
			g.progress(cmd, "watching the events of lattice %q; Ctrl-C stops", g.lattice)
			out := cmd.OutOrStdout()
			for n := 0; count == 0 || n < count; {
				ev, err := w.Next(ctx)
				if err != nil {
					return nil // Ctrl-C
				}
				if !f.match(ev) {
					continue
				}
				n++
				if err := g.printEvent(out, ev); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&types, "type", nil, "only events of this type or pattern, such as actor_started or 'actor_*' (repeat)")
	f.StringVar(&actor, "actor", "", "only events about this actor (id, call alias or name)")
	f.IntVar(&count, "count", 0, "exit after N events (0: run until Ctrl-C)")
	lf = addLatticeFlags(g, cmd)
	return cmd
}

// eventFilter keeps the events a user asked for.
type eventFilter struct {
	types          []string
	actor, actorID string
}

func (f eventFilter) match(ev lattice.Event) bool {
	if len(f.types) > 0 {
		ok := false
		for _, t := range f.types {
			t = strings.TrimPrefix(t, lattice.EventTypePrefix)
			if m, _ := path.Match(t, ev.ShortType()); m {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if f.actor == "" {
		return true
	}
	var d struct {
		ID      string `json:"id"`
		ActorID string `json:"actor_id"`
		Name    string `json:"name"`
		Alias   string `json:"call_alias"`
	}
	if json.Unmarshal(ev.Data, &d) != nil {
		return false
	}
	if f.actorID != "" && (d.ID == f.actorID || d.ActorID == f.actorID) {
		return true
	}
	// Host events carry a host id in "id"; only actor ids count here.
	return !signing.IsActorID(f.actor) && (d.Name == f.actor || d.Alias == f.actor)
}

// printEvent writes one event: a JSON line with -o json, else a line for
// people.
func (g *globals) printEvent(w io.Writer, ev lattice.Event) error {
	if g.output == "json" {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	src := ev.Source
	if i := strings.LastIndex(src, "/"); i >= 0 && strings.HasPrefix(src, "spore/") {
		src = src[len("spore/"):i+1] + short(src[i+1:])
	}
	_, err := fmt.Fprintf(w, "%s  %-19s  %-17s  %s\n", ev.Time.Local().Format("15:04:05.000"), ev.ShortType(), src, eventGist(ev.Data))
	return err
}

// gistKeys are the data fields a line shows, in this order.
var gistKeys = []string{"name", "id", "actor_id", "host_id", "ref", "contract", "provider", "link_name",
	"instances", "actors", "providers", "labels", "subject", "reason"}

// eventGist renders the fields of an event's data that matter to a person.
func eventGist(data json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		s := string(data)
		if len(s) > 120 {
			s = s[:120] + "…"
		}
		return s
	}
	var parts []string
	for _, k := range gistKeys {
		v, ok := m[k]
		if !ok || v == nil || v == "" {
			continue
		}
		parts = append(parts, k+"="+gistValue(k, v))
	}
	return strings.Join(parts, " ")
}

func gistValue(key string, v any) string {
	switch v := v.(type) {
	case string:
		if strings.HasSuffix(key, "id") {
			return short(v)
		}
		return v
	case []any:
		return fmt.Sprint(len(v))
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = fmt.Sprintf("%s=%v", k, v[k])
		}
		return strings.Join(keys, ",")
	}
	return fmt.Sprint(v)
}
