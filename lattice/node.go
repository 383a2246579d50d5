package lattice

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/signing"
)

// Options configure a lattice host (a Node).
type Options struct {
	// Lattice is the lattice id; default "default".
	Lattice string
	// NATSURL joins an existing NATS server or cluster. Empty runs an
	// embedded server configured by Server.
	NATSURL string
	// Server configures the embedded server.
	Server ServerOptions
	// Labels are added to the automatic os, arch and hostname.
	Labels map[string]string
	// ClusterSeed is the lattice's cluster key, given explicitly. Empty
	// takes (or makes) the one stored in the lattice.
	ClusterSeed string
	// TrustedIssuers, when set, refuses actors signed by other accounts.
	TrustedIssuers []string
	// CacheDir keeps compiled modules between runs; default
	// $SPORE_CACHE_DIR, and in memory only when that is unset.
	CacheDir string
	// Limits are the defaults for actors on this host.
	Limits host.Limits
	// Heartbeat is how often the host announces itself; default
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// Log is the structured log; default slog.Default.
	Log *slog.Logger
	// Version is reported in HostInfo.
	Version string
	// Apps configures the app reconciler candidate every host runs.
	Apps AppControllerOptions
	// ProviderCommand is the command that runs one provider out of process
	// (StartProvider with Process); the provider's name and flags are
	// appended. Default: this executable with "provider run", which is
	// right when the host is the spore command.
	ProviderCommand []string
}

// DefaultHeartbeat is how often hosts publish host_heartbeat. Observers
// count a host gone after HostTTL without one.
const (
	DefaultHeartbeat = 2 * time.Second
	HostTTL          = 3 * DefaultHeartbeat
)

// Node is one host in a lattice: a host.Host for actors, the providers
// started here, and the NATS subscriptions that serve the control interface
// and invocations. It owns its goroutines; Close stops them.
type Node struct {
	opts    Options
	id      string
	log     *slog.Logger
	subj    Subjects
	server  *Server // nil when joined to an outside server
	nc      *nats.Conn
	replies *replies // results of the invocations it sends
	// rpcSubjects caches actorRPC's subjects, by actor id.
	rpcSubjects sync.Map
	js          jetstream.JetStream
	state       *State
	key         *ClusterKey
	host        *host.Host
	provs       *LocalProviders
	links       *linkCache
	claims      *claimsCache
	apps        *AppController // nil when Options.Apps.Disabled
	start       time.Time
	// registry records the providers running here (see provider_runners.go).
	registry jetstream.KeyValue
	// hostRegistry records this host while it answers (host_registry.go).
	hostRegistry jetstream.KeyValue

	mu        sync.Mutex // guards the fields below
	labels    map[string]string
	actors    map[string]*runningActor // by actor id
	provSubs  map[string]*nats.Subscription
	provAnn   map[string]map[string]string // annotations of the providers started here, by name
	procs     map[string]*providerProc     // providers run out of process, by name
	ctlSubs   []*nats.Subscription
	closed    bool
	closeOnce sync.Once

	inflight chan struct{} // bounds RPC handlers beyond the workers
	rpc      *rpcServer    // runs the invocations served here (rpcserver.go)
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	done     chan struct{}
}

type runningActor struct {
	actor       *host.Actor
	ref         string
	sub         *nats.Subscription
	annotations map[string]string
}

// maxInflight bounds the RPC handlers one host runs at once; each waits
// for a free actor instance, so this only caps goroutines.
const maxInflight = 4096

// Start runs a host: it starts or joins NATS, opens the lattice state, gets
// the cluster key and starts serving. Close stops it.
func Start(ctx context.Context, o Options) (*Node, error) {
	if o.Lattice == "" {
		o.Lattice = "default"
	}
	if err := CheckLatticeID(o.Lattice); err != nil {
		return nil, err
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.CacheDir == "" {
		o.CacheDir = os.Getenv("SPORE_CACHE_DIR")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	kp, err := signing.NewKey(signing.KindHost)
	if err != nil {
		return nil, err
	}
	id, _ := kp.PublicKey()
	n := &Node{
		opts:     o,
		id:       id,
		log:      o.Log.With("host", id[:8]),
		subj:     Subjects{o.Lattice},
		start:    time.Now().UTC(),
		labels:   baseLabels(o.Labels),
		actors:   map[string]*runningActor{},
		provSubs: map[string]*nats.Subscription{},
		provAnn:  map[string]map[string]string{},
		procs:    map[string]*providerProc{},
		provs:    NewLocalProviders(),
		inflight: make(chan struct{}, maxInflight),
		done:     make(chan struct{}),
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if err := n.connect(ctx); err != nil {
		n.Close(ctx)
		return nil, err
	}
	if n.registry, err = openProviderRegistry(ctx, n.js, o.Lattice); err != nil {
		n.Close(ctx)
		return nil, err
	}
	if n.hostRegistry, err = openRegistry(ctx, n.js, o.Lattice, bucketHosts, "live hosts", HostTTL); err != nil {
		n.Close(ctx)
		return nil, err
	}
	n.links = newLinkCache(n)
	n.claims = newClaimsCache(n)
	cfg := host.NewConfig().
		WithCacheDir(o.CacheDir).
		WithLogger(o.Log).
		WithLimits(o.Limits).
		WithLinks(n.links).
		WithRouter(n)
	if len(o.TrustedIssuers) > 0 {
		cfg = cfg.WithTrustedIssuers(o.TrustedIssuers...)
	}
	if n.host, err = host.New(ctx, cfg); err != nil {
		n.Close(ctx)
		return nil, err
	}
	if err := n.links.start(ctx, n.ctx, n.state.Links); err != nil {
		n.Close(ctx)
		return nil, err
	}
	if err := n.claims.start(ctx, n.ctx, n.state.Claims); err != nil {
		n.Close(ctx)
		return nil, err
	}
	if n.replies, err = newReplies(n.nc); err != nil {
		n.Close(ctx)
		return nil, fmt.Errorf("lattice: inbox for results: %w", err)
	}
	n.startWorkers()
	if err := n.serveControl(); err != nil {
		n.Close(ctx)
		return nil, err
	}
	n.registerHost()
	n.wg.Add(1)
	go n.heartbeat()
	if !o.Apps.Disabled {
		ao := o.Apps
		if ao.Log == nil {
			ao.Log = n.log
		}
		c := &Client{nc: n.nc, rep: n.replies, sharedRep: true, subj: n.subj, state: n.state, key: n.key, Wait: time.Second}
		if n.apps, err = StartAppController(c, n.id, ao); err != nil {
			n.Close(ctx)
			return nil, err
		}
	}
	n.event(EvtHostStarted, n.info(false))
	n.log.Info("host started", "id", id, "lattice", o.Lattice, "nats", n.nc.ConnectedUrl(), "labels", n.labels)
	return n, nil
}

func (n *Node) connect(ctx context.Context) error {
	url := n.opts.NATSURL
	var inProcess []nats.Option
	if url == "" {
		so := n.opts.Server
		if so.Log == nil {
			so.Log = n.opts.Log
		}
		s, err := StartServer(so)
		if err != nil {
			return err
		}
		n.server = s
		url = s.ClientURL()
		// The host's own connections to its embedded server skip the
		// loopback socket: a pipe in the process, no system calls.
		inProcess = append(inProcess, nats.InProcessServer(writeBehindServer{s.Server}))
	}
	nc, err := nats.Connect(url, append(inProcess,
		nats.Name("spore host "+n.id),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				n.log.Warn("lattice connection lost; local actors keep serving", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { n.log.Info("lattice connection back", "url", c.ConnectedUrl()) }),
	)...)
	if err != nil {
		return fmt.Errorf("lattice: connect %s: %w", url, err)
	}
	n.nc = nc
	if n.js, err = jetstream.New(nc); err != nil {
		return fmt.Errorf("lattice: jetstream: %w", err)
	}
	// A leaf host reaches JetStream through its hub, which may take a
	// moment after the leaf connection comes up.
	deadline := time.Now().Add(15 * time.Second)
	for {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		n.state, err = OpenState(sctx, n.js, n.opts.Lattice)
		if err == nil {
			n.key, err = n.state.ClusterKeyFor(sctx, n.opts.ClusterSeed, true)
		}
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}

func baseLabels(extra map[string]string) map[string]string {
	l := map[string]string{"os": runtime.GOOS, "arch": runtime.GOARCH}
	if h, err := os.Hostname(); err == nil {
		l["hostname"] = h
	}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

// ID is the host's id (an nkeys server public key, N…), new each start.
func (n *Node) ID() string { return n.id }

// Lattice is the lattice id.
func (n *Node) Lattice() string { return n.opts.Lattice }

// Conn is the node's NATS connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// State is the lattice state the node uses.
func (n *Node) State() *State { return n.state }

// Host is the node's actor host.
func (n *Node) Host() *host.Host { return n.host }

// ClientURL is the NATS URL clients reach this node's lattice at.
func (n *Node) ClientURL() string {
	if n.server != nil {
		return n.server.ClientURL()
	}
	return n.nc.ConnectedUrl()
}

// LeafURL is where leaf nodes join this node's embedded server, or "".
func (n *Node) LeafURL() string {
	if n.server != nil {
		return n.server.LeafURL
	}
	return ""
}

// Done is closed when the node stops, by Close or by a stop request.
func (n *Node) Done() <-chan struct{} { return n.done }

// providerEnv is what a provider started here gets. It delivers to actors
// whose claims list the provider's contract, in this process when the actor
// runs here, else across the lattice with the contract in the invocation so
// the actor's host checks the claims.
func (n *Node) providerEnv(name, contract string) providers.Env {
	return providers.Env{
		Log:     n.opts.Log,
		NATS:    n.nc,
		Lattice: n.opts.Lattice,
		Invoke: func(ctx context.Context, actorID, op string, payload []byte) ([]byte, error) {
			if a := n.host.Actor(actorID); a != nil {
				if !a.Claims().HasCap(contract) {
					return nil, noClaim(a.String(), contract)
				}
				return a.Invoke(ctx, op, payload)
			}
			return n.invoke(ctx, n.actorRPC(actorID), &Invocation{
				Origin: providerOrigin(name, n.id), Target: actorID, Operation: op, Payload: payload,
				Link: deliveryLink(actorID, contract, name),
			})
		},
	}
}

// Close stops serving, stops actors and providers, tells the lattice, and
// shuts the embedded server down. It is safe to call more than once.
func (n *Node) Close(ctx context.Context) error {
	n.closeOnce.Do(func() {
		n.unregisterHost()
		if n.apps != nil {
			n.apps.Close()
		}
		n.stopProcesses()
		n.mu.Lock()
		n.closed = true
		subs := n.ctlSubs
		for _, ra := range n.actors {
			subs = append(subs, ra.sub)
		}
		for _, s := range n.provSubs {
			subs = append(subs, s)
		}
		n.mu.Unlock()
		for _, s := range subs {
			if s != nil {
				_ = s.Unsubscribe()
			}
		}
		if n.nc != nil && n.key != nil {
			n.unregisterAll()
			n.event(EvtHostStopped, n.info(false))
			_ = n.nc.Flush()
		}
		n.cancel()
		n.wg.Wait()
		if n.links != nil {
			n.links.stop()
		}
		if n.claims != nil {
			n.claims.stop()
		}
		if n.host != nil {
			n.host.Close(ctx)
		}
		n.provs.StopAll(ctx)
		if n.nc != nil {
			n.nc.Close()
		}
		if n.server != nil {
			n.server.Shutdown()
			n.server.WaitForShutdown()
		}
		close(n.done)
	})
	return nil
}

// event publishes a CloudEvent from this host.
func (n *Node) event(typ string, data any) {
	publishEvent(n.nc, n.subj, "spore/host/"+n.id, typ, data)
}

func (n *Node) heartbeat() {
	defer n.wg.Done()
	t := time.NewTicker(n.opts.Heartbeat)
	defer t.Stop()
	reg := time.NewTicker(DefaultHeartbeat) // keeps the registries' entries alive
	defer reg.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
			n.event(EvtHostHeartbeat, n.info(true))
		case <-reg.C:
			n.registerAll()
			n.registerHost()
		}
	}
}

// info describes the host; withStats adds each actor's counters.
func (n *Node) info(withStats bool) HostInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	hi := HostInfo{
		ID:        n.id,
		Lattice:   n.opts.Lattice,
		Labels:    copyMap(n.labels),
		Version:   n.opts.Version,
		StartedAt: n.start,
		Actors:    []ActorInfo{},
		Providers: []ProviderInfo{},
	}
	for _, ra := range n.actors {
		ai := actorInfo(n.id, ra)
		if withStats {
			st := ra.actor.Stats()
			ai.Stats = &st
		}
		hi.Instances += ai.Instances
		hi.Actors = append(hi.Actors, ai)
	}
	for _, name := range n.provs.Names() {
		if p := n.provs.Get(name); p != nil {
			hi.Providers = append(hi.Providers, ProviderInfo{Name: name, Contract: p.Contract(), HostID: n.id, Annotations: n.provAnn[name]})
		}
	}
	for _, pp := range n.procs {
		hi.Providers = append(hi.Providers, pp.info())
	}
	return hi
}

func actorInfo(hostID string, ra *runningActor) ActorInfo {
	c := ra.actor.Claims()
	return ActorInfo{
		ID: c.ID, Name: c.Name, Revision: c.Revision, CallAlias: c.CallAlias,
		Ref: ra.ref, HostID: hostID, Instances: ra.actor.Limits().MaxInstances,
		Annotations: ra.annotations,
	}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
