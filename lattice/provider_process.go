package lattice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/signing"
)

// ProviderProcessOptions configure a provider process.
type ProviderProcessOptions struct {
	// Name is the provider to run, such as httpserver.
	Name string
	// NATSURL is the lattice's NATS.
	NATSURL string
	// Lattice is the lattice id; default "default".
	Lattice string
	// ClusterSeed is the lattice's cluster key when it was given
	// explicitly; empty takes the one stored in the lattice.
	ClusterSeed string
	// Annotations are reported with the provider (a supervised process
	// carries its host's id).
	Annotations map[string]string
	// Log is the structured log; default slog.Default.
	Log *slog.Logger
}

// ProviderProcess runs one provider outside any host (spore provider run):
// it applies the provider's links from the lattice state, serves actors on
// any host through the provider's RPC subject, and calls actors with signed
// invocations. It is a runner like a host (see provider_runners.go): link
// puts ask it to apply their link first. It owns its goroutines; Close
// stops them.
type ProviderProcess struct {
	opts     ProviderProcessOptions
	id       string
	log      *slog.Logger
	subj     Subjects
	nc       *nats.Conn
	replies  *replies // results of the invocations it sends
	state    *State
	key      *ClusterKey
	registry jetstream.KeyValue
	p        providers.Provider
	links    *mirror[spore.Link]

	mu   sync.Mutex
	subs []*nats.Subscription

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	slots     chan struct{} // bounds invocations served at once
	closeOnce sync.Once
	done      chan struct{}
}

// ServeProvider starts a provider process and returns when it serves.
func ServeProvider(ctx context.Context, o ProviderProcessOptions) (*ProviderProcess, error) {
	if o.Lattice == "" {
		o.Lattice = "default"
	}
	if err := CheckLatticeID(o.Lattice); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	p, err := providers.New(o.Name)
	if err != nil {
		return nil, spore.NewError(spore.CodeNotFound, fmt.Errorf("lattice: %w", err))
	}
	kp, err := signing.NewKey(signing.KindHost)
	if err != nil {
		return nil, err
	}
	id, _ := kp.PublicKey()
	pp := &ProviderProcess{
		opts: o, id: id, p: p, subj: Subjects{o.Lattice},
		log:   o.Log.With("provider", o.Name, "process", id[:8]),
		slots: make(chan struct{}, maxInflight),
		done:  make(chan struct{}),
	}
	pp.ctx, pp.cancel = context.WithCancel(context.Background())
	if err := pp.start(ctx); err != nil {
		pp.Close(context.Background())
		return nil, err
	}
	return pp, nil
}

func (pp *ProviderProcess) start(ctx context.Context) error {
	o := pp.opts
	nc, err := nats.Connect(o.NATSURL, nats.Name("spore provider "+o.Name+" "+pp.id),
		nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond), nats.Timeout(5*time.Second))
	if err != nil {
		return spore.Errorf(spore.CodeUnavailable, "lattice: connect %s: %v (is a host up? start one with 'spore up')", o.NATSURL, err)
	}
	pp.nc = nc
	if pp.replies, err = newReplies(nc); err != nil {
		return fmt.Errorf("lattice: inbox for results: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("lattice: jetstream: %w", err)
	}
	if pp.state, err = OpenState(ctx, js, o.Lattice); err != nil {
		return err
	}
	if pp.key, err = pp.state.ClusterKeyFor(ctx, o.ClusterSeed, false); err != nil {
		return err
	}
	if pp.registry, err = openProviderRegistry(ctx, js, o.Lattice); err != nil {
		return err
	}
	if err := pp.p.Start(ctx, pp.env()); err != nil {
		return fmt.Errorf("lattice: provider %s: start: %w", o.Name, err)
	}
	// The control subjects first: a link put that sees this runner in the
	// registry finds it answering.
	ops := map[string]func(m *nats.Msg){
		pp.subj.HostCtl(pp.id, OpLinkCheck): pp.control(OpLinkCheck),
		pp.subj.HostCtl(pp.id, OpLinkSync):  pp.control(OpLinkSync),
		pp.subj.ProviderRPCAll(o.Name):      pp.invocation,
	}
	for subject, h := range ops {
		queue := ""
		if subject == pp.subj.ProviderRPCAll(o.Name) {
			queue = subject
		}
		sub, err := nc.QueueSubscribe(subject, queue, h)
		if err != nil {
			return fmt.Errorf("lattice: subscribe %s: %w", subject, err)
		}
		pp.mu.Lock()
		pp.subs = append(pp.subs, sub)
		pp.mu.Unlock()
	}
	pp.links = &mirror[spore.Link]{
		name:     "links",
		decode:   decodeLink,
		onPut:    pp.apply,
		onDelete: pp.unapply,
		onBad: func(key string, err error) {
			pp.log.Warn("ignoring a malformed link in the lattice state", "key", key, "err", err)
		},
	}
	if err := pp.links.start(ctx, pp.ctx, pp.state.Links); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	if err := register(ctx, pp.registry, pp.info()); err != nil {
		return fmt.Errorf("lattice: register provider %s: %w", o.Name, err)
	}
	pp.wg.Add(1)
	go pp.refresh()
	pp.event(EvtProviderStarted, pp.info())
	pp.log.Info("provider process serving", "lattice", o.Lattice, "nats", nc.ConnectedUrl(), "id", pp.id)
	return nil
}

// ID is the process's runner id (an nkeys server key, N…), new each start.
func (pp *ProviderProcess) ID() string { return pp.id }

// Provider is the provider the process runs.
func (pp *ProviderProcess) Provider() providers.Provider { return pp.p }

// Done is closed when the process has stopped.
func (pp *ProviderProcess) Done() <-chan struct{} { return pp.done }

func (pp *ProviderProcess) info() ProviderInfo {
	ann := copyMap(pp.opts.Annotations)
	if ann["process"] == "" {
		ann["process"] = "standalone"
	}
	return ProviderInfo{Name: pp.p.Name(), Contract: pp.p.Contract(), HostID: pp.id, Annotations: ann}
}

// env is the provider's Env: actors are called with signed invocations
// that carry the contract, so their hosts check the claims.
func (pp *ProviderProcess) env() providers.Env {
	name, contract := pp.p.Name(), pp.p.Contract()
	return providers.Env{
		Log: pp.opts.Log.With("provider", name), NATS: pp.nc, Lattice: pp.opts.Lattice,
		Invoke: func(ctx context.Context, actorID, op string, payload []byte) ([]byte, error) {
			return sendInvocation(ctx, pp.replies, pp.state, pp.key, pp.subj.ActorRPC(actorID), &Invocation{
				Origin: providerOrigin(name, pp.id), Target: actorID, Operation: op, Payload: payload,
				Link: deliveryLink(actorID, contract, name),
			})
		},
	}
}

func (pp *ProviderProcess) event(typ string, data any) {
	publishEvent(pp.nc, pp.subj, "spore/provider/"+pp.id, typ, data)
}

func (pp *ProviderProcess) apply(ctx context.Context, l spore.Link) {
	if l.Provider != pp.p.Name() {
		return
	}
	if err := pp.p.PutLink(ctx, l); err != nil {
		pp.log.Warn("provider refused a link", "link", l.String(), "err", err)
		pp.event(EvtLinkFailed, map[string]any{"link": l, "host_id": pp.id, "reason": err.Error()})
		return
	}
	pp.log.Info("link applied", "link", l.String())
}

func (pp *ProviderProcess) unapply(ctx context.Context, l spore.Link) {
	if l.Provider != pp.p.Name() {
		return
	}
	if err := pp.p.DeleteLink(ctx, l); err != nil {
		pp.log.Warn("provider failed to delete a link", "link", l.String(), "err", err)
	}
}

// control answers link.check and link.sync.
func (pp *ProviderProcess) control(op string) nats.MsgHandler {
	return func(m *nats.Msg) {
		pp.wg.Add(1)
		go func() {
			defer pp.wg.Done()
			ctx, cancel := context.WithTimeout(pp.ctx, linkCheckTimeout)
			defer cancel()
			respond(m, nil, runnerLinkOp(ctx, pp.state, pp.p, op, m.Data))
		}()
	}
}

// invocation serves one call from an actor, on its own goroutine.
func (pp *ProviderProcess) invocation(m *nats.Msg) {
	select {
	case pp.slots <- struct{}{}:
	case <-pp.ctx.Done():
		return
	}
	pp.wg.Add(1)
	go func() {
		defer func() { <-pp.slots; pp.wg.Done() }()
		end := rpcEnd{ctx: pp.ctx, nc: pp.nc, state: pp.state, key: pp.key, log: pp.log, event: pp.event}
		end.serve(m, func(ctx context.Context, inv *Invocation) ([]byte, error) {
			return handleProviderCall(ctx, pp.state, pp.p, inv)
		})
	}()
}

// refresh keeps the registry entry alive.
func (pp *ProviderProcess) refresh() {
	defer pp.wg.Done()
	t := time.NewTicker(DefaultHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-pp.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(pp.ctx, 5*time.Second)
			if err := register(ctx, pp.registry, pp.info()); err != nil && !errors.Is(err, context.Canceled) {
				pp.log.Warn("could not refresh the providers registry", "err", err)
			}
			cancel()
		}
	}
}

// Close stops serving, stops the provider and leaves the registry. It is
// safe to call more than once.
func (pp *ProviderProcess) Close(ctx context.Context) error {
	pp.closeOnce.Do(func() {
		pp.mu.Lock()
		subs := pp.subs
		pp.subs = nil
		pp.mu.Unlock()
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
		pp.cancel()
		pp.wg.Wait()
		if pp.links != nil {
			pp.links.stop()
		}
		_ = pp.p.Stop(ctx)
		if pp.registry != nil {
			uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			unregister(uctx, pp.registry, pp.p.Name(), pp.id)
			cancel()
		}
		if pp.nc != nil {
			if pp.key != nil {
				pp.event(EvtProviderStopped, pp.info())
			}
			_ = pp.nc.Flush()
			pp.nc.Close()
		}
		close(pp.done)
	})
	return nil
}
