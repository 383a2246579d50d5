package lattice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore"
)

// AppControllerOptions configure the app reconciler a host runs.
type AppControllerOptions struct {
	// Disabled runs no reconciler candidate on the host.
	Disabled bool
	// Interval is how often the leader reconciles when nothing wakes it
	// sooner; default DefaultReconcileInterval.
	Interval time.Duration
	// Log is the structured log; default: discard.
	Log *slog.Logger
}

// Timing of the app reconciler. docs/apps.md derives the self-healing bound
// from these and HostTTL.
const (
	// DefaultReconcileInterval is how often the leader reconciles when no
	// event wakes it.
	DefaultReconcileInterval = time.Second
	// LeaseTTL is how long the reconciler lease outlives its last renewal:
	// a leader that stops renewing (its host died) loses it after this,
	// and a candidate on another host takes it within LeaseRenew more.
	LeaseTTL = 5 * time.Second
	// LeaseRenew is how often the leader renews the lease and candidates
	// try to take it.
	LeaseRenew = time.Second
)

const (
	bucketLeases = "leases" // KV with TTL LeaseTTL: app_reconciler -> host id
	leaseKey     = "app_reconciler"
	// commandTimeout bounds one command: starting an actor fetches and
	// compiles it on the host.
	commandTimeout = 2 * time.Minute
	// probeTimeout bounds the inventory request to a host that missed the
	// ping.
	probeTimeout = 500 * time.Millisecond
	// applyParallel is how many commands of one phase run at once.
	applyParallel = 8
)

// AppController is one host's reconciler candidate. Every host runs one;
// the one holding the lease in the lattice's leases bucket (a KV bucket
// whose entries expire after LeaseTTL) is the leader and the only one that
// acts. The others keep trying to take the lease, so losing the leader's
// host does not stop reconciliation.
//
// The leader follows the apps and links buckets and the lattice's events,
// and on each change or every Interval it observes the hosts (ping, with an
// inventory request to any host seen in the last HostTTL that missed it),
// asks Reconcile for commands and applies them phase by phase.
type AppController struct {
	c    *Client
	id   string
	opts AppControllerOptions
	log  *slog.Logger
	sub  *nats.Subscription

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	wake   chan struct{}

	// Owned by the campaign goroutine.
	lease jetstream.KeyValue

	mu      sync.Mutex // guards the fields below
	hosts   map[string]*seenHost
	rev     uint64    // the lease's revision while this candidate holds it
	renewed time.Time // when the last successful renewal was sent
	leading bool
}

// seenHost is what the controller last heard from a host.
type seenHost struct {
	info HostInfo
	seen time.Time
}

// StartAppController starts a reconciler candidate that uses c and calls
// itself id (a host id). Close stops it.
func StartAppController(c *Client, id string, o AppControllerOptions) (*AppController, error) {
	if o.Interval <= 0 {
		o.Interval = DefaultReconcileInterval
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &AppController{
		c: c, id: id, opts: o, log: o.Log.With("component", "apps"),
		wake:  make(chan struct{}, 1),
		hosts: map[string]*seenHost{},
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	var err error
	if a.sub, err = c.nc.Subscribe(c.subj.Event("*"), a.onEvent); err != nil {
		return nil, fmt.Errorf("lattice: apps: subscribe to events: %w", err)
	}
	a.wg.Add(1)
	go a.campaign()
	return a, nil
}

// Close stops the candidate; a leader gives its lease up so another host
// takes over at once. It is safe to call more than once.
func (a *AppController) Close() {
	a.once.Do(func() {
		_ = a.sub.Unsubscribe()
		a.cancel()
		a.wg.Wait()
	})
}

// Leading reports whether this candidate holds the lease now.
func (a *AppController) Leading() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.leading
}

func (a *AppController) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// onEvent keeps the host table and wakes the leader on changes it did not
// make itself.
func (a *AppController) onEvent(m *nats.Msg) {
	var ev Event
	if json.Unmarshal(m.Data, &ev) != nil {
		return
	}
	switch ev.ShortType() {
	case EvtHostHeartbeat, EvtHostStarted:
		var hi HostInfo
		if json.Unmarshal(ev.Data, &hi) != nil || hi.ID == "" {
			return
		}
		a.mu.Lock()
		_, known := a.hosts[hi.ID]
		a.hosts[hi.ID] = &seenHost{info: hi, seen: time.Now()}
		a.mu.Unlock()
		if !known {
			a.poke()
		}
	case EvtHostStopped:
		var hi HostInfo
		if json.Unmarshal(ev.Data, &hi) == nil {
			a.mu.Lock()
			delete(a.hosts, hi.ID)
			a.mu.Unlock()
		}
		a.poke()
	case EvtLabelsChanged, EvtActorStopped, EvtActorFailed, EvtProviderStopped:
		a.poke()
	}
}

// campaign holds or seeks the lease every LeaseRenew, and runs the leader
// loop while it holds it.
func (a *AppController) campaign() {
	defer a.wg.Done()
	var stopLeading func()
	defer func() {
		if stopLeading != nil {
			stopLeading()
		}
		a.release()
	}()
	t := time.NewTicker(LeaseRenew)
	defer t.Stop()
	for {
		held := a.holdLease()
		switch {
		case held && stopLeading == nil:
			a.log.Info("app reconciler: this host took the lease and leads")
			stopLeading = a.lead()
		case !held && stopLeading != nil:
			a.log.Info("app reconciler: lease lost; another host leads")
			stopLeading()
			stopLeading = nil
		}
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// holdLease renews the lease, or takes it when it is free.
func (a *AppController) holdLease() bool {
	ctx, cancel := context.WithTimeout(a.ctx, LeaseRenew)
	defer cancel()
	if a.lease == nil {
		kv, err := a.c.state.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      a.c.subj.Bucket(bucketLeases),
			Description: "spore lattice " + a.c.subj.L + ": leases (the app reconciler's)",
			History:     1,
			TTL:         LeaseTTL,
			Storage:     jetstream.MemoryStorage,
		})
		if err != nil {
			a.log.Debug("app reconciler: leases bucket", "err", err)
			return false
		}
		a.lease = kv
	}
	sent := time.Now()
	a.mu.Lock()
	rev := a.rev
	a.mu.Unlock()
	var err error
	if rev != 0 {
		rev, err = a.lease.Update(ctx, leaseKey, []byte(a.id), rev)
	}
	if rev == 0 || err != nil {
		rev, err = a.lease.Create(ctx, leaseKey, []byte(a.id))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.rev, a.leading = 0, false
		return false
	}
	a.rev, a.renewed, a.leading = rev, sent, true
	return true
}

// valid reports whether the lease is still surely held: a leader that could
// not renew for LeaseTTL-LeaseRenew stops acting before another may start.
func (a *AppController) valid() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.leading && time.Since(a.renewed) < LeaseTTL-LeaseRenew
}

// release gives the lease up, if held.
func (a *AppController) release() {
	a.mu.Lock()
	rev := a.rev
	a.rev, a.leading = 0, false
	a.mu.Unlock()
	if rev == 0 || a.lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = a.lease.Delete(ctx, leaseKey, jetstream.LastRevision(rev))
}

// lead runs the leader loop until the returned func is called.
func (a *AppController) lead() (stop func()) {
	ctx, cancel := context.WithCancel(a.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.leadLoop(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

func (a *AppController) leadLoop(ctx context.Context) {
	wake := func(context.Context, []byte) { a.poke() }
	apps := &mirror[[]byte]{name: "apps", decode: func(_ string, v []byte) ([]byte, error) { return v, nil }, onPut: wake, onDelete: wake}
	links := &mirror[spore.Link]{name: "links", decode: decodeLink,
		onPut: func(context.Context, spore.Link) { a.poke() }, onDelete: func(context.Context, spore.Link) { a.poke() }}
	if !a.follow(ctx, apps.start, a.c.state.Apps) {
		return
	}
	defer apps.stop()
	if !a.follow(ctx, links.start, a.c.state.Links) {
		return
	}
	defer links.stop()
	t := time.NewTicker(a.opts.Interval)
	defer t.Stop()
	for {
		if a.pass(ctx, apps, links) {
			// Look again soon: the commands' effects are the next
			// observation.
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.wake:
		}
	}
}

// follow starts a mirror, retrying until it works or ctx ends.
func (a *AppController) follow(ctx context.Context, start func(ctx, life context.Context, kv jetstream.KeyValue) error, kv jetstream.KeyValue) bool {
	for {
		err := start(ctx, ctx, kv)
		if err == nil {
			return true
		}
		a.log.Warn("app reconciler: cannot follow the lattice state; retrying", "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(LeaseRenew):
		}
	}
}

func decodeLink(key string, v []byte) (spore.Link, error) {
	var l spore.Link
	if err := json.Unmarshal(v, &l); err != nil {
		return l, err
	}
	if l.Key() != key {
		return l, fmt.Errorf("link key %s does not match %s", key, l.Key())
	}
	return l, nil
}

// pass reconciles once. It reports whether it gave any command.
func (a *AppController) pass(ctx context.Context, apps *mirror[[]byte], links *mirror[spore.Link]) bool {
	if !a.valid() {
		return false
	}
	snap := newAppsSnapshot()
	apps.each(func(k string, v []byte) { snap.add(k, v, 0) })
	if len(snap.names()) == 0 && !a.anyAppMade() {
		return false
	}
	hosts, silent := a.observe(ctx)
	snap.addMade(hosts)
	var ls []spore.Link
	links.each(func(_ string, l spore.Link) { ls = append(ls, l) })
	plan := Reconcile(snap.inputs(a.c.resolveRefs(ctx, snap.records)), hosts, ls)
	if ctx.Err() != nil || !a.valid() {
		return false
	}
	r := a.apply(ctx, plan, snap, silent)
	a.saveStates(ctx, plan, snap, r)
	return len(plan.Commands) > 0
}

// anyAppMade reports whether any host's last heartbeat shows something an
// app made; with no apps either, a pass has nothing to do.
func (a *AppController) anyAppMade() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, h := range a.hosts {
		for _, ai := range h.info.Actors {
			if ai.Annotations[AnnotationApp] != "" {
				return true
			}
		}
		for _, pi := range h.info.Providers {
			if pi.Annotations[AnnotationApp] != "" {
				return true
			}
		}
	}
	return false
}

// observe returns the live hosts: those that answer a ping, and those that
// missed it but were heard from within HostTTL (a host that died is
// counted, with what it ran, until then; this is what keeps a slow host's
// share from moving). silent holds the hosts that did not answer now:
// commands to them are not sent.
func (a *AppController) observe(ctx context.Context) ([]HostInfo, map[string]bool) {
	answered, _ := a.c.Hosts(ctx)
	now := time.Now()
	a.mu.Lock()
	got := map[string]bool{}
	for _, h := range answered {
		got[h.ID] = true
		a.hosts[h.ID] = &seenHost{info: h, seen: now}
	}
	var probe []HostInfo
	for id, h := range a.hosts {
		switch {
		case got[id]:
		case now.Sub(h.seen) >= HostTTL:
			delete(a.hosts, id)
		default:
			probe = append(probe, h.info)
		}
	}
	a.mu.Unlock()
	silent := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range probe {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			inv, err := a.c.Inventory(pctx, h.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				silent[h.ID] = true
				answered = append(answered, h)
				return
			}
			answered = append(answered, *inv)
		}()
	}
	wg.Wait()
	return answered, silent
}

// applyResult is what happened to a plan's commands.
type applyResult struct {
	errors  map[string][]string     // by app
	deleted map[string][]spore.Link // links deleted, by app
	forget  map[string]bool
}

// apply runs the plan's commands phase by phase. Within a phase commands
// run concurrently. An actor whose start or scale-up failed keeps its
// instances elsewhere: its phase-3 commands are skipped this pass.
func (a *AppController) apply(ctx context.Context, plan Plan, snap *appsSnapshot, silent map[string]bool) applyResult {
	r := applyResult{errors: map[string][]string{}, deleted: map[string][]spore.Link{}, forget: map[string]bool{}}
	// The links an app is about to make are recorded as its own before
	// they are put, so a leader that dies in between leaks nothing.
	a.recordLinks(ctx, plan, snap)
	var mu sync.Mutex
	failed := map[string]bool{} // app/actor
	for phase := 1; phase <= 3; phase++ {
		sem := make(chan struct{}, applyParallel)
		var wg sync.WaitGroup
		for _, cmd := range plan.Commands {
			if cmd.Phase() != phase {
				continue
			}
			if phase == 3 && cmd.Actor != "" && failed[cmd.App+"/"+cmd.Actor] {
				continue
			}
			if silent[cmd.Host] {
				mu.Lock()
				r.errors[cmd.App] = append(r.errors[cmd.App], fmt.Sprintf("%s: host %s does not answer; what it ran moves elsewhere once it has been silent for %s", cmd, shortID(cmd.Host), HostTTL))
				mu.Unlock()
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				err := a.run(ctx, cmd)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					a.log.Warn("app reconciler: command failed", "command", cmd.String(), "err", err)
					r.errors[cmd.App] = append(r.errors[cmd.App], fmt.Sprintf("%s: %v", cmd, err))
					if cmd.Actor != "" {
						failed[cmd.App+"/"+cmd.Actor] = true
					}
				case cmd.Op == CmdDeleteLink:
					r.deleted[cmd.App] = append(r.deleted[cmd.App], *cmd.Link)
				case cmd.Op == CmdForgetApp:
					r.forget[cmd.App] = true
				}
				if err == nil {
					a.log.Info("app reconciler: " + cmd.String())
				}
			}()
		}
		wg.Wait()
		if ctx.Err() != nil || !a.valid() {
			break
		}
	}
	return r
}

// run applies one command.
func (a *AppController) run(ctx context.Context, cmd Command) error {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	if !a.valid() {
		return errors.New("this host no longer holds the reconciler lease")
	}
	var err error
	switch cmd.Op {
	case CmdStartActor:
		_, err = a.c.StartActor(ctx, StartActor{Ref: cmd.Ref, Instances: cmd.Instances, Annotations: cmd.Annotations}, nil, cmd.Host)
	case CmdScaleActor:
		_, err = a.c.ScaleActor(ctx, cmd.Host, cmd.ActorID, cmd.Instances)
	case CmdStopActor:
		err = a.c.StopActor(ctx, cmd.Host, cmd.ActorID)
	case CmdStartProvider:
		_, err = a.c.StartProvider(ctx, StartProvider{Name: cmd.Provider, Annotations: cmd.Annotations}, nil, cmd.Host)
	case CmdStopProvider:
		err = a.c.StopProvider(ctx, cmd.Host, cmd.Provider)
	case CmdPutLink:
		_, err = a.c.PutLink(ctx, *cmd.Link)
	case CmdDeleteLink:
		err = a.c.DeleteLink(ctx, *cmd.Link)
	case CmdForgetApp:
		// A deploy may have come since the plan was made.
		if _, err := a.c.state.Apps.Get(ctx, cmd.App); err == nil {
			return nil
		}
		err = a.c.state.Apps.Delete(ctx, cmd.App+appStateSuffix)
	}
	// What is to be stopped or deleted being gone already is success.
	if spore.CodeOf(err) == spore.CodeNotFound && cmd.Phase() == 3 {
		return nil
	}
	return err
}

// recordLinks adds the links each app wants to the links it owns.
func (a *AppController) recordLinks(ctx context.Context, plan Plan, snap *appsSnapshot) {
	for _, st := range plan.Status {
		old := snap.states[st.Name]
		next := AppState{}
		if old != nil {
			next = *old
		}
		next.Links = mergeLinks(next.Links, st.DesiredLinks, nil)
		if old == nil && len(next.Links) == 0 {
			continue
		}
		if old == nil || !slices.EqualFunc(old.Links, next.Links, sameLink) {
			a.putState(ctx, st.Name, &next)
			snap.states[st.Name] = &next
		}
	}
}

// saveStates records each app's links without those deleted, and the
// errors of this pass.
func (a *AppController) saveStates(ctx context.Context, plan Plan, snap *appsSnapshot, r applyResult) {
	for _, st := range plan.Status {
		if r.forget[st.Name] {
			continue
		}
		old := snap.states[st.Name]
		next := AppState{}
		if old != nil {
			next = *old
		}
		next.Links = mergeLinks(next.Links, nil, r.deleted[st.Name])
		next.Errors = r.errors[st.Name]
		if old == nil && len(next.Links) == 0 && len(next.Errors) == 0 {
			continue
		}
		if old != nil && slices.EqualFunc(old.Links, next.Links, sameLink) && slices.Equal(old.Errors, next.Errors) {
			continue
		}
		a.putState(ctx, st.Name, &next)
	}
}

func (a *AppController) putState(ctx context.Context, app string, st *AppState) {
	st.Reconciler, st.UpdatedAt = a.id, time.Now().UTC()
	b, _ := json.Marshal(st)
	if _, err := a.c.state.Apps.Put(ctx, app+appStateSuffix, b); err != nil {
		a.log.Warn("app reconciler: record app state", "app", app, "err", err)
	}
}

// mergeLinks returns have plus add minus del, by link key, in key order.
func mergeLinks(have, add, del []spore.Link) []spore.Link {
	m := map[string]spore.Link{}
	for _, l := range have {
		m[l.Key()] = l
	}
	for _, l := range add {
		m[l.Key()] = l
	}
	for _, l := range del {
		if cur, ok := m[l.Key()]; ok && sameLink(cur, l) {
			delete(m, l.Key())
		}
	}
	out := make([]spore.Link, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

// AppReconciler returns the id of the host whose reconciler leads, or ""
// when none holds the lease.
func (c *Client) AppReconciler(ctx context.Context) (string, error) {
	kv, err := c.state.js.KeyValue(ctx, c.subj.Bucket(bucketLeases))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lattice: leases: %w", err)
	}
	e, err := kv.Get(ctx, leaseKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lattice: leases: %w", err)
	}
	return string(e.Value()), nil
}
