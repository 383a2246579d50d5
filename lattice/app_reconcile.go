package lattice

import (
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/spore-run/spore"
)

// Annotations mark what an app made: the reconciler only scales, stops or
// deletes actors and providers that carry AnnotationApp with the app's name,
// and only deletes links recorded in the app's state.
const (
	AnnotationApp         = "spore.app"
	AnnotationAppVersion  = "spore.app.version"
	AnnotationAppActor    = "spore.app.actor"    // the manifest's actor name
	AnnotationAppProvider = "spore.app.provider" // the manifest's provider name
)

// ResolvedRef is what an actor ref in a manifest names in the lattice.
type ResolvedRef struct {
	Digest  string `json:"digest,omitempty"` // sha256:<hex>, what hosts are told to start
	ActorID string `json:"actor_id,omitempty"`
	// Err says why the ref did not resolve; the actor's running instances
	// are then left as they are.
	Err string `json:"error,omitempty"`
}

// AppInput is one app as the reconciler sees it.
type AppInput struct {
	Name string
	// Manifest is what the app should be; nil once it is undeployed, when
	// everything it made is removed.
	Manifest *Manifest
	// Refs resolves the manifest's actor refs.
	Refs map[string]ResolvedRef
	// Links are the links the app made (its AppState).
	Links []spore.Link
}

// CommandOp is what a Command does.
type CommandOp string

// The commands the reconciler gives.
const (
	CmdPutLink       CommandOp = "put_link"
	CmdStartProvider CommandOp = "start_provider"
	CmdStartActor    CommandOp = "start_actor" // only on a host that does not run the actor
	CmdScaleActor    CommandOp = "scale_actor"
	CmdStopActor     CommandOp = "stop_actor"
	CmdStopProvider  CommandOp = "stop_provider"
	CmdDeleteLink    CommandOp = "delete_link"
	CmdForgetApp     CommandOp = "forget_app" // an undeployed app made nothing that remains: drop its state
)

// Command is one change the reconciler wants made to the lattice.
type Command struct {
	Op   CommandOp `json:"op"`
	App  string    `json:"app"`
	Host string    `json:"host,omitempty"`
	// Actor is the manifest's actor name; ActorID and Ref what runs.
	Actor   string `json:"actor,omitempty"`
	ActorID string `json:"actor_id,omitempty"`
	Ref     string `json:"ref,omitempty"`
	// From is the host's instances before a scale, Instances after.
	From        int               `json:"from,omitempty"`
	Instances   int               `json:"instances,omitempty"`
	Provider    string            `json:"provider,omitempty"`
	Link        *spore.Link       `json:"link,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Phase orders a pass's commands: 1 makes links and providers, 2 starts and
// scales up, 3 scales down, stops and deletes. A pass applies a phase only
// after the one before, so capacity comes before it goes.
func (c Command) Phase() int {
	switch c.Op {
	case CmdPutLink, CmdStartProvider:
		return 1
	case CmdStartActor:
		return 2
	case CmdScaleActor:
		if c.Instances > c.From {
			return 2
		}
	}
	return 3
}

func (c Command) String() string {
	h := shortID(c.Host)
	switch c.Op {
	case CmdStartActor:
		return fmt.Sprintf("%s: start actor %s (%s) on host %s with %d instances", c.App, c.Actor, c.Ref, h, c.Instances)
	case CmdScaleActor:
		return fmt.Sprintf("%s: scale actor %s on host %s from %d to %d instances", c.App, c.Actor, h, c.From, c.Instances)
	case CmdStopActor:
		return fmt.Sprintf("%s: stop actor %s (%s) on host %s", c.App, c.Actor, shortID(c.ActorID), h)
	case CmdStartProvider:
		return fmt.Sprintf("%s: start provider %s on host %s", c.App, c.Provider, h)
	case CmdStopProvider:
		return fmt.Sprintf("%s: stop provider %s on host %s", c.App, c.Provider, h)
	case CmdPutLink:
		return fmt.Sprintf("%s: put link %s", c.App, c.Link)
	case CmdDeleteLink:
		return fmt.Sprintf("%s: delete link %s", c.App, c.Link)
	}
	return fmt.Sprintf("%s: %s", c.App, c.Op)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// App states in AppStatus.State.
const (
	AppDeployed    = "deployed"    // every instance, provider and link is in place
	AppDeploying   = "deploying"   // not yet, or not possible now (see Problems)
	AppUndeploying = "undeploying" // removing what the app made
)

// AppStatus is an app's desired state against what runs.
type AppStatus struct {
	Name      string           `json:"name"`
	Version   string           `json:"version,omitempty"`
	State     string           `json:"state"`
	Actors    []ActorStatus    `json:"actors,omitempty"`
	Providers []ProviderStatus `json:"providers,omitempty"`
	Links     []LinkStatus     `json:"links,omitempty"`
	// Problems say what keeps the app from being deployed.
	Problems []string `json:"problems,omitempty"`
	// DeployedAt is when the manifest was stored (set by Client.AppStatuses).
	DeployedAt time.Time `json:"deployed_at,omitzero"`
	// DesiredLinks are the links the manifest makes, in full.
	DesiredLinks []spore.Link `json:"-"`
}

// ActorStatus is one manifest actor: instances wanted, running the
// manifest's module, and still running an older one.
type ActorStatus struct {
	Name     string         `json:"name"`
	Ref      string         `json:"ref"`
	ActorID  string         `json:"actor_id,omitempty"`
	Desired  int            `json:"desired"`
	Running  int            `json:"running"`
	Outdated int            `json:"outdated,omitempty"`
	Spreads  []SpreadStatus `json:"spreads"`
}

// SpreadStatus is one spread entry: its share of the instances and the
// hosts it may use.
type SpreadStatus struct {
	Name         string            `json:"name"`
	Weight       int               `json:"weight"`
	Requirements map[string]string `json:"requirements,omitempty"`
	Desired      int               `json:"desired"`
	Running      int               `json:"running"`
	Hosts        []HostShare       `json:"hosts,omitempty"`
	Problem      string            `json:"problem,omitempty"`
}

// HostShare is a spread's share on one eligible host.
type HostShare struct {
	Host    string `json:"host"`
	Desired int    `json:"desired"`
	Running int    `json:"running"`
}

// ProviderStatus is one manifest provider: the hosts it should run on and
// those it runs on.
type ProviderStatus struct {
	Name         string            `json:"name"`
	Requirements map[string]string `json:"requirements,omitempty"`
	Hosts        []string          `json:"hosts"`
	Running      int               `json:"running"`
	Problem      string            `json:"problem,omitempty"`
}

// LinkStatus is one manifest link.
type LinkStatus struct {
	Actor    string `json:"actor"`
	Contract string `json:"contract"`
	LinkName string `json:"link_name"`
	Provider string `json:"provider"`
	Present  bool   `json:"present"`
}

// Plan is what one reconcile pass wants done, and where each app stands.
type Plan struct {
	Commands []Command   `json:"commands"`
	Status   []AppStatus `json:"status"`
}

// Reconcile compares apps with the observed lattice (live hosts with what
// they run, and the links) and returns the commands that move the lattice
// toward the apps, with each app's status. It is a pure function: the same
// inputs give the same plan. See docs/apps.md for the placement rules.
func Reconcile(apps []AppInput, hosts []HostInfo, links []spore.Link) Plan {
	hosts = append([]HostInfo(nil), hosts...)
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].ID < hosts[j].ID })
	byKey := make(map[string]spore.Link, len(links))
	for _, l := range links {
		byKey[l.Key()] = l
	}
	apps = append([]AppInput(nil), apps...)
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	plan := Plan{Commands: []Command{}, Status: []AppStatus{}}
	for _, app := range apps {
		r := &appPass{app: app, hosts: hosts, links: byKey}
		st := r.run()
		plan.Commands = append(plan.Commands, r.cmds...)
		plan.Status = append(plan.Status, st)
	}
	sort.SliceStable(plan.Commands, func(i, j int) bool { return plan.Commands[i].Phase() < plan.Commands[j].Phase() })
	return plan
}

// appPass reconciles one app.
type appPass struct {
	app   AppInput
	hosts []HostInfo
	links map[string]spore.Link
	cmds  []Command
	// keepIDs are actor ids of the app that still run after this pass, so
	// their links stay.
	keepIDs map[string]bool
}

func (r *appPass) add(c Command) {
	c.App = r.app.Name
	r.cmds = append(r.cmds, c)
}

// owns reports whether annotations mark something of this app.
func (r *appPass) owns(ann map[string]string) bool { return ann[AnnotationApp] == r.app.Name }

func (r *appPass) run() AppStatus {
	r.keepIDs = map[string]bool{}
	m := r.app.Manifest
	st := AppStatus{Name: r.app.Name, State: AppUndeploying}
	if m != nil {
		st.Version, st.State = m.Version, AppDeployed
	}
	wanted := map[string]bool{}
	wantedProv := map[string]ManifestProvider{}
	desiredLinks := map[string]bool{}
	if m != nil {
		for _, a := range m.Actors {
			wanted[a.Name] = true
			as, ls, ok := r.actor(a, &st)
			st.Actors = append(st.Actors, as)
			st.Links = append(st.Links, ls...)
			for _, l := range ls {
				desiredLinks[l.key()] = true
			}
			if !ok {
				st.State = AppDeploying
			}
		}
		for _, p := range m.Providers {
			wantedProv[p.Name] = p
			ps := r.provider(p)
			st.Providers = append(st.Providers, ps)
			if ps.Problem != "" {
				st.Problems = append(st.Problems, "provider "+p.Name+": "+ps.Problem)
			}
			if ps.Problem != "" || ps.Running < len(ps.Hosts) {
				st.State = AppDeploying
			}
		}
	}
	remains := false
	// Actors and providers the app made that the manifest no longer wants.
	for _, h := range r.hosts {
		for _, ai := range h.Actors {
			if !r.owns(ai.Annotations) {
				continue
			}
			remains = true
			if !wanted[ai.Annotations[AnnotationAppActor]] {
				r.add(Command{Op: CmdStopActor, Host: h.ID, Actor: ai.Annotations[AnnotationAppActor], ActorID: ai.ID})
			} else {
				r.keepIDs[ai.ID] = true
			}
		}
		for _, pi := range h.Providers {
			if !r.owns(pi.Annotations) {
				continue
			}
			remains = true
			p, ok := wantedProv[pi.Name]
			if !ok || !Satisfies(h.Labels, p.Requirements) {
				r.add(Command{Op: CmdStopProvider, Host: h.ID, Provider: pi.Name})
			}
		}
	}
	// Links the app made that it no longer wants go once no actor of the
	// app that uses them runs, so a rolling upgrade keeps its links.
	for _, l := range r.app.Links {
		if desiredLinks[l.Key()] {
			continue
		}
		remains = true
		if !r.keepIDs[l.ActorID] {
			l := l
			r.add(Command{Op: CmdDeleteLink, Link: &l})
		}
	}
	if m == nil && !remains {
		r.add(Command{Op: CmdForgetApp})
	}
	if st.State == AppDeployed && len(st.Problems) > 0 {
		st.State = AppDeploying
	}
	return st
}

func (ls LinkStatus) key() string {
	return spore.Link{ActorID: ls.Actor, Contract: ls.Contract, LinkName: ls.LinkName}.Key()
}

// actor plans one manifest actor. ok reports whether it is in place.
func (r *appPass) actor(a ManifestActor, st *AppStatus) (ActorStatus, []LinkStatus, bool) {
	as := ActorStatus{Name: a.Name, Ref: a.Ref, Desired: a.Instances, Spreads: []SpreadStatus{}}
	res, ok := r.app.Refs[a.Ref]
	if !ok || res.Err != "" || res.ActorID == "" || res.Digest == "" {
		why := res.Err
		if why == "" {
			why = "not resolved yet"
		}
		st.Problems = append(st.Problems, fmt.Sprintf("actor %s: ref %s: %s", a.Name, a.Ref, why))
		// Leave whatever runs alone until the ref resolves.
		for _, h := range r.hosts {
			for _, ai := range h.Actors {
				if r.owns(ai.Annotations) && ai.Annotations[AnnotationAppActor] == a.Name {
					as.Outdated += ai.Instances
				}
			}
		}
		return as, nil, false
	}
	as.ActorID = res.ActorID
	// What runs on each host: this app actor's instances of the manifest's
	// actor id (own), the same id run by someone else (foreign: that host
	// cannot take it), and older ids of this app actor.
	own := map[string]ActorInfo{}
	foreign := map[string]bool{}
	type old struct{ host, id string }
	var olds []old
	for _, h := range r.hosts {
		for _, ai := range h.Actors {
			mine := r.owns(ai.Annotations) && ai.Annotations[AnnotationAppActor] == a.Name
			switch {
			case ai.ID == res.ActorID && mine:
				own[h.ID] = ai
			case ai.ID == res.ActorID:
				foreign[h.ID] = true
			case mine:
				olds = append(olds, old{h.ID, ai.ID})
				as.Outdated += ai.Instances
			}
		}
	}
	spreads := a.Spread
	if len(spreads) == 0 {
		spreads = []Spread{{Name: "default", Weight: DefaultSpreadWeight}}
	}
	shares := SplitByWeight(a.Instances, spreads)
	planned := map[string]int{}
	placed := 0
	for i, s := range spreads {
		ss := SpreadStatus{Name: s.Name, Weight: s.Weight, Requirements: s.Requirements, Desired: shares[i]}
		var eligible []string
		excluded := 0
		for _, h := range r.hosts {
			if !Satisfies(h.Labels, s.Requirements) {
				continue
			}
			if foreign[h.ID] {
				excluded++
				continue
			}
			eligible = append(eligible, h.ID)
		}
		if len(eligible) == 0 && shares[i] > 0 {
			ss.Problem = "no host satisfies " + describeRequirements(s.Requirements)
			if excluded > 0 {
				ss.Problem = fmt.Sprintf("the %d hosts that satisfy %s run this actor outside the app", excluded, describeRequirements(s.Requirements))
			}
			st.Problems = append(st.Problems, fmt.Sprintf("actor %s: spread %s: %s", a.Name, s.Name, ss.Problem))
		}
		cur := func(h string) int { return own[h].Instances - planned[h] }
		// Hosts that already run more keep the odd instances, so a pass
		// never moves instances it does not have to.
		sort.SliceStable(eligible, func(i, j int) bool {
			ci, cj := cur(eligible[i]), cur(eligible[j])
			if ci != cj {
				return ci > cj
			}
			return planned[eligible[i]] < planned[eligible[j]]
		})
		alloc := map[string]int{}
		for k, h := range eligible {
			n := shares[i] / len(eligible)
			if k < shares[i]%len(eligible) {
				n++
			}
			alloc[h] = n
		}
		sort.Strings(eligible)
		for _, h := range eligible {
			hs := HostShare{Host: h, Desired: alloc[h]}
			// Running counts the instances of the manifest's module on the
			// host not already counted by an earlier spread.
			if o, ok := own[h]; ok && o.Ref == res.Digest {
				hs.Running = min(alloc[h], max(0, o.Instances-planned[h]))
			}
			ss.Running += hs.Running
			ss.Hosts = append(ss.Hosts, hs)
			planned[h] += alloc[h]
			placed += alloc[h]
		}
		as.Spreads = append(as.Spreads, ss)
	}
	inPlace := placed == a.Instances
	ann := map[string]string{
		AnnotationApp:        r.app.Name,
		AnnotationAppVersion: r.app.Manifest.Version,
		AnnotationAppActor:   a.Name,
	}
	// Another module of the same actor (a new revision, or a rollback) is
	// not started over the running one: a host given a module whose code it
	// already runs only adds instances, and one with an older revision
	// refuses it. Each such host stops the actor and then starts the
	// manifest's module, one host at a time and only while every other host
	// runs its share, so the actor keeps serving.
	var replace []string
	missing := false
	for _, h := range r.hosts {
		want := planned[h.ID]
		o, has := own[h.ID]
		if has && o.Ref == res.Digest {
			as.Running += min(o.Instances, want)
		} else if has {
			as.Outdated += o.Instances
		}
		missing = missing || (want > 0 && !has)
		switch {
		case want > 0 && has && o.Ref != res.Digest:
			replace = append(replace, h.ID)
			inPlace = false
		case want > 0 && !has:
			r.add(Command{Op: CmdStartActor, Host: h.ID, Actor: a.Name, ActorID: res.ActorID, Ref: res.Digest, Instances: want, Annotations: maps.Clone(ann)})
			inPlace = false
		case want > 0 && o.Instances != want:
			r.add(Command{Op: CmdScaleActor, Host: h.ID, Actor: a.Name, ActorID: res.ActorID, From: o.Instances, Instances: want})
			inPlace = false
		case want == 0 && has:
			r.add(Command{Op: CmdStopActor, Host: h.ID, Actor: a.Name, ActorID: res.ActorID})
			inPlace = false
		}
	}
	if len(replace) > 0 && !missing {
		r.add(Command{Op: CmdStopActor, Host: replace[0], Actor: a.Name, ActorID: res.ActorID})
	}
	// Roll forward: older modules of this actor stop once the new one
	// runs everywhere it should.
	if inPlace {
		for _, o := range olds {
			r.add(Command{Op: CmdStopActor, Host: o.host, Actor: a.Name, ActorID: o.id})
		}
	}
	var ls []LinkStatus
	for _, ml := range a.Links {
		l := ml.LinkFor(res.ActorID)
		cur, ok := r.links[l.Key()]
		present := ok && sameLink(cur, l)
		if !present {
			r.add(Command{Op: CmdPutLink, Actor: a.Name, Link: &l})
		}
		st.DesiredLinks = append(st.DesiredLinks, l)
		ls = append(ls, LinkStatus{Actor: res.ActorID, Contract: l.Contract, LinkName: l.LinkName, Provider: l.Provider, Present: present})
		inPlace = inPlace && present
	}
	return as, ls, inPlace && len(olds) == 0
}

// provider plans one manifest provider: it runs on every host whose labels
// satisfy its requirements. One already running there, whoever started it,
// serves.
func (r *appPass) provider(p ManifestProvider) ProviderStatus {
	ps := ProviderStatus{Name: p.Name, Requirements: p.Requirements, Hosts: []string{}}
	for _, h := range r.hosts {
		if !Satisfies(h.Labels, p.Requirements) {
			continue
		}
		ps.Hosts = append(ps.Hosts, h.ID)
		running := false
		for _, pi := range h.Providers {
			running = running || pi.Name == p.Name
		}
		if running {
			ps.Running++
			continue
		}
		r.add(Command{Op: CmdStartProvider, Host: h.ID, Provider: p.Name, Annotations: map[string]string{
			AnnotationApp:         r.app.Name,
			AnnotationAppVersion:  r.app.Manifest.Version,
			AnnotationAppProvider: p.Name,
		}})
	}
	if len(ps.Hosts) == 0 {
		ps.Problem = "no host satisfies " + describeRequirements(p.Requirements)
	}
	return ps
}

func sameLink(a, b spore.Link) bool {
	return a.Key() == b.Key() && a.Provider == b.Provider && maps.Equal(a.Values, b.Values)
}

// describeRequirements renders requirements as k=v pairs, in key order.
func describeRequirements(req map[string]string) string {
	if len(req) == 0 {
		return "no requirements (is any host up?)"
	}
	parts := make([]string, 0, len(req))
	for _, k := range sortedKeys(req) {
		parts = append(parts, k+"="+req[k])
	}
	return strings.Join(parts, ",")
}

// SplitByWeight splits n instances over spreads in proportion to their
// weights, by largest remainder: each gets the whole part of its share,
// and the instances left over go to the largest fractions (the earlier
// spread on a tie), so the counts add up to n exactly.
func SplitByWeight(n int, spreads []Spread) []int {
	out := make([]int, len(spreads))
	total := 0
	for _, s := range spreads {
		total += max(s.Weight, 0)
	}
	if total == 0 || n <= 0 {
		return out
	}
	frac := make([]int, len(spreads))
	left := n
	for i, s := range spreads {
		w := max(s.Weight, 0)
		out[i] = n * w / total
		frac[i] = n * w % total
		left -= out[i]
	}
	order := make([]int, len(spreads))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return frac[order[i]] > frac[order[j]] })
	for _, i := range order[:left] {
		out[i]++
	}
	return out
}
