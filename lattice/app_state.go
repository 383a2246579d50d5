package lattice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore"
)

// Apps live in the lattice's apps KV bucket (history 5, so the last
// deployed versions are kept):
//
//	<name>        AppRecord: the manifest as deployed
//	<name>.state  AppState: what the reconciler made for the app (its links)
//	              and the commands of its last pass that failed
//
// App names cannot hold a dot, so the two never collide. Undeploying deletes
// <name>; the reconciler then removes what the app made and, last, deletes
// <name>.state.

// AppRecord is a deployed app.
type AppRecord struct {
	Manifest Manifest `json:"manifest"`
	// Source is the manifest's YAML as the user wrote it.
	Source     string    `json:"source,omitempty"`
	DeployedAt time.Time `json:"deployed_at"`
	// Revision is the record's KV revision.
	Revision uint64 `json:"-"`
}

// AppState is what the reconciler keeps about an app between passes.
type AppState struct {
	// Links are the links the app made: undeploying deletes these and only
	// these.
	Links []spore.Link `json:"links,omitempty"`
	// Errors are the commands of the reconciler's last pass that failed.
	Errors     []string  `json:"errors,omitempty"`
	Reconciler string    `json:"reconciler,omitempty"` // host id of the reconciler
	UpdatedAt  time.Time `json:"updated_at"`
}

const appStateSuffix = ".state"

// appKey is the key of an app's record or state; ok is false for keys that
// are neither.
func appKey(key string) (name string, state, ok bool) {
	if n, found := strings.CutSuffix(key, appStateSuffix); found {
		return n, true, nameRE.MatchString(n)
	}
	return key, false, nameRE.MatchString(key)
}

// DeployApp checks that every actor ref of m is in the lattice's artifact
// store and stores m as the app's new version. The reconciler does the
// rest; AppStatus follows it.
func (c *Client) DeployApp(ctx context.Context, m *Manifest, source []byte) (*AppRecord, error) {
	if !nameRE.MatchString(m.Name) {
		return nil, spore.Errorf(spore.CodeBadRequest, "lattice: app name %q: %s", m.Name, nameRule)
	}
	var missing []string
	for i, a := range m.Actors {
		if r := c.ResolveRef(ctx, a.Ref); r.Err != "" {
			missing = append(missing, fmt.Sprintf("actors[%d].ref: %s", i, r.Err))
		}
	}
	if len(missing) > 0 {
		return nil, spore.Errorf(spore.CodeNotFound, "lattice: app %s: %s", m.Name, strings.Join(missing, "; "))
	}
	rec := AppRecord{Manifest: *m, Source: string(source), DeployedAt: time.Now().UTC()}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	rev, err := c.state.Apps.Put(ctx, m.Name, b)
	if err != nil {
		return nil, fmt.Errorf("lattice: store app %s: %w", m.Name, err)
	}
	rec.Revision = rev
	return &rec, nil
}

// UndeployApp deletes an app's record. The reconciler then removes every
// actor, provider and link the app made.
func (c *Client) UndeployApp(ctx context.Context, name string) error {
	if _, err := c.App(ctx, name); err != nil {
		return err
	}
	if err := c.state.Apps.Delete(ctx, name); err != nil {
		return fmt.Errorf("lattice: undeploy %s: %w", name, err)
	}
	return nil
}

// App returns an app's record.
func (c *Client) App(ctx context.Context, name string) (*AppRecord, error) {
	if !nameRE.MatchString(name) {
		return nil, spore.Errorf(spore.CodeBadRequest, "lattice: app name %q: %s", name, nameRule)
	}
	e, err := c.state.Apps.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, spore.Errorf(spore.CodeNotFound, "lattice: no app %q is deployed (see 'spore app ls')", name)
	}
	if err != nil {
		return nil, fmt.Errorf("lattice: app %s: %w", name, err)
	}
	return decodeAppRecord(e.Value(), e.Revision())
}

func decodeAppRecord(b []byte, rev uint64) (*AppRecord, error) {
	var rec AppRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("lattice: malformed app record: %w", err)
	}
	rec.Revision = rev
	return &rec, nil
}

// appsSnapshot is every app record and state in the bucket, and the apps
// that made something a host runs.
type appsSnapshot struct {
	records map[string]*AppRecord
	states  map[string]*AppState
	made    map[string]bool
}

func newAppsSnapshot() *appsSnapshot {
	return &appsSnapshot{records: map[string]*AppRecord{}, states: map[string]*AppState{}, made: map[string]bool{}}
}

// addMade notes the apps whose annotations the hosts' actors and providers
// carry: an app with neither record nor state is undeployed, and what it
// made is still to be removed.
func (s *appsSnapshot) addMade(hosts []HostInfo) {
	for _, h := range hosts {
		for _, a := range h.Actors {
			if n := a.Annotations[AnnotationApp]; n != "" {
				s.made[n] = true
			}
		}
		for _, p := range h.Providers {
			if n := p.Annotations[AnnotationApp]; n != "" {
				s.made[n] = true
			}
		}
	}
}

// known reports whether the snapshot knows the app at all.
func (s *appsSnapshot) known(name string) bool {
	return s.records[name] != nil || s.states[name] != nil || s.made[name]
}

// keep drops every app but the named ones.
func (s *appsSnapshot) keep(names []string) {
	drop := func(n string) bool { return !slices.Contains(names, n) }
	maps.DeleteFunc(s.records, func(n string, _ *AppRecord) bool { return drop(n) })
	maps.DeleteFunc(s.states, func(n string, _ *AppState) bool { return drop(n) })
	maps.DeleteFunc(s.made, func(n string, _ bool) bool { return drop(n) })
}

func (c *Client) appsSnapshot(ctx context.Context) (*appsSnapshot, error) {
	s := newAppsSnapshot()
	w, err := c.state.Apps.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("lattice: list apps: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return s, nil
			}
			s.add(e.Key(), e.Value(), e.Revision())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// add files one entry of the apps bucket; malformed entries are skipped.
func (s *appsSnapshot) add(key string, value []byte, rev uint64) {
	name, isState, ok := appKey(key)
	if !ok {
		return
	}
	if isState {
		var st AppState
		if json.Unmarshal(value, &st) == nil {
			s.states[name] = &st
		}
		return
	}
	if rec, err := decodeAppRecord(value, rev); err == nil && rec.Manifest.Name == name {
		s.records[name] = rec
	}
}

// names lists every app the snapshot knows, in order.
func (s *appsSnapshot) names() []string {
	all := map[string]bool{}
	for n := range s.records {
		all[n] = true
	}
	for n := range s.states {
		all[n] = true
	}
	for n := range s.made {
		all[n] = true
	}
	return sortedKeys(all)
}

// AppInstances counts the instances of an app's actors on each host, by
// host id.
func AppInstances(hosts []HostInfo, app string) map[string]int {
	out := map[string]int{}
	for _, h := range hosts {
		for _, a := range h.Actors {
			if a.Annotations[AnnotationApp] == app {
				out[h.ID] += a.Instances
			}
		}
	}
	return out
}

// ResolveRef finds what an actor ref names in the artifact store: the
// module's digest and its actor id.
func (c *Client) ResolveRef(ctx context.Context, ref string) ResolvedRef {
	info, err := c.state.Artifacts.GetInfo(ctx, ref)
	if err == nil && info.Opts != nil && info.Opts.Link != nil {
		info, err = c.state.Artifacts.GetInfo(ctx, info.Opts.Link.Name)
	}
	if errors.Is(err, jetstream.ErrObjectNotFound) || errors.Is(err, jetstream.ErrInvalidStoreName) || errors.Is(err, jetstream.ErrBadObjectMeta) {
		return ResolvedRef{Err: fmt.Sprintf("no artifact %q in the lattice: push it with 'spore push', or give a file path", ref)}
	}
	if err != nil {
		return ResolvedRef{Err: fmt.Sprintf("artifact %q: %v", ref, err)}
	}
	id := info.Headers.Get("Spore-Actor")
	if !strings.HasPrefix(info.Name, "sha256:") || id == "" {
		return ResolvedRef{Err: fmt.Sprintf("artifact %q is not a pushed actor", ref)}
	}
	return ResolvedRef{Digest: info.Name, ActorID: id}
}

// resolveRefs resolves every actor ref of the manifests.
func (c *Client) resolveRefs(ctx context.Context, recs map[string]*AppRecord) map[string]ResolvedRef {
	out := map[string]ResolvedRef{}
	for _, rec := range recs {
		for _, a := range rec.Manifest.Actors {
			if _, ok := out[a.Ref]; !ok {
				out[a.Ref] = c.ResolveRef(ctx, a.Ref)
			}
		}
	}
	return out
}

// appInputs turns a snapshot into the reconciler's input.
func (s *appsSnapshot) inputs(refs map[string]ResolvedRef) []AppInput {
	var out []AppInput
	for _, name := range s.names() {
		in := AppInput{Name: name, Refs: refs}
		if rec := s.records[name]; rec != nil {
			in.Manifest = &rec.Manifest
		}
		if st := s.states[name]; st != nil {
			in.Links = st.Links
		}
		out = append(out, in)
	}
	return out
}

// AppStatuses computes every app's status (or the named ones) against the
// lattice as it is now, with the errors of the reconciler's last pass.
func (c *Client) AppStatuses(ctx context.Context, names ...string) ([]AppStatus, error) {
	snap, err := c.appsSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	hosts, err := c.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	snap.addMade(hosts)
	for _, n := range names {
		if !snap.known(n) {
			return nil, spore.Errorf(spore.CodeNotFound, "lattice: no app %q is deployed (see 'spore app ls')", n)
		}
	}
	if len(names) > 0 {
		snap.keep(names)
	}
	links, err := c.state.ListLinks(ctx)
	if err != nil {
		return nil, err
	}
	plan := Reconcile(snap.inputs(c.resolveRefs(ctx, snap.records)), hosts, links)
	for i := range plan.Status {
		st := &plan.Status[i]
		if rec := snap.records[st.Name]; rec != nil {
			st.DeployedAt = rec.DeployedAt
		}
		// A deployed app's old errors are history.
		if s := snap.states[st.Name]; s != nil && st.State != AppDeployed {
			st.Problems = append(st.Problems, s.Errors...)
		}
	}
	return plan.Status, nil
}
