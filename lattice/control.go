package lattice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/signing"
)

// controlTimeout bounds the work of one control request on a host.
const controlTimeout = 2 * time.Minute

// serveControl subscribes the control interface: lattice-wide subjects every
// host answers (ping, auction), subjects one host of the lattice answers
// (link put and delete, in a queue group), and this host's own subjects.
func (n *Node) serveControl() error {
	type route struct {
		subject, queue string
		handle         func(ctx context.Context, op string, data []byte) (any, error)
	}
	routes := []route{
		{n.subj.Ctl(OpPing), "", func(context.Context, string, []byte) (any, error) { return n.info(false), nil }},
		{n.subj.Ctl(OpAuction), "", n.handleAuction},
		{n.subj.Ctl(OpLinkPut), n.subj.Ctl("links"), n.handleLinkPut},
		{n.subj.Ctl(OpLinkDel), n.subj.Ctl("links"), n.handleLinkDel},
		{n.subj.HostCtl(n.id, ">"), "", n.handleHostOp},
	}
	for _, r := range routes {
		sub, err := n.nc.QueueSubscribe(r.subject, r.queue, n.controlHandler(r.handle))
		if err != nil {
			return fmt.Errorf("lattice: subscribe %s: %w", r.subject, err)
		}
		n.mu.Lock()
		n.ctlSubs = append(n.ctlSubs, sub)
		n.mu.Unlock()
	}
	return n.nc.Flush()
}

// controlHandler runs a control operation on its own goroutine and answers
// with a Reply. A panic in a handler becomes an error reply: no request can
// take the host down.
func (n *Node) controlHandler(handle func(ctx context.Context, op string, data []byte) (any, error)) nats.MsgHandler {
	return func(m *nats.Msg) {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			ctx, cancel := context.WithTimeout(n.ctx, controlTimeout)
			defer cancel()
			var out any
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = spore.Errorf(spore.CodeInternal, "lattice: control %s: internal error: %v", m.Subject, r)
						n.log.Error("control handler panicked", "subject", m.Subject, "panic", r)
					}
				}()
				op := m.Subject[strings.LastIndex(m.Subject, ".")+1:]
				if prefix := n.subj.HostCtl(n.id, ""); strings.HasPrefix(m.Subject, prefix) {
					op = m.Subject[len(prefix):]
				}
				out, err = handle(ctx, op, m.Data)
			}()
			if errors.Is(err, errNoAnswer) {
				return
			}
			if err != nil {
				var se *spore.Error
				if errors.As(err, &se) && se.Code == spore.CodeBadRequest {
					n.event(EvtControlRejected, map[string]string{"subject": m.Subject, "reason": err.Error()})
				}
			}
			respond(m, out, err)
		}()
	}
}

// errNoAnswer makes a host stay silent, as a host that loses an auction
// does.
var errNoAnswer = errors.New("no answer")

func respond(m *nats.Msg, out any, err error) {
	if m.Reply == "" {
		return
	}
	var r Reply
	if err != nil {
		var se *spore.Error
		if !errors.As(err, &se) {
			se = spore.NewError(spore.CodeInternal, err)
		}
		r.Error = &spore.Error{Code: se.Code, Message: se.Message}
	} else if out != nil {
		r.Data, _ = json.Marshal(out)
	}
	b, _ := json.Marshal(r)
	_ = m.Respond(b)
}

// decode parses a control request body, refusing garbage with a reason.
func decode(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return spore.Errorf(spore.CodeBadRequest, "lattice: malformed control request: %v", err)
	}
	return nil
}

func (n *Node) handleAuction(_ context.Context, _ string, data []byte) (any, error) {
	var req Auction
	if err := decode(data, &req); err != nil {
		return nil, err
	}
	n.mu.Lock()
	ok := Satisfies(n.labels, req.Constraints)
	n.mu.Unlock()
	if !ok {
		return nil, errNoAnswer
	}
	return n.info(false), nil
}

func (n *Node) handleHostOp(ctx context.Context, op string, data []byte) (any, error) {
	switch op {
	case OpInventory:
		return n.info(true), nil
	case OpActorStart:
		var req StartActor
		if err := decode(data, &req); err != nil {
			return nil, err
		}
		return n.StartActor(ctx, req)
	case OpActorStop:
		var req StopActor
		if err := decode(data, &req); err != nil {
			return nil, err
		}
		return nil, n.StopActor(ctx, req.Actor)
	case OpActorScale:
		var req ScaleActor
		if err := decode(data, &req); err != nil {
			return nil, err
		}
		return n.ScaleActor(ctx, req.Actor, req.Instances)
	case OpProviderStart:
		var req StartProvider
		if err := decode(data, &req); err != nil {
			return nil, err
		}
		return n.StartProvider(ctx, req)
	case OpProviderStop:
		var req StopProvider
		if err := decode(data, &req); err != nil {
			return nil, err
		}
		return nil, n.StopProvider(ctx, req.Name)
	case OpLinkCheck, OpLinkSync:
		var l spore.Link
		if err := decode(data, &l); err != nil {
			return nil, err
		}
		return nil, runnerLinkOp(ctx, n.state, n.provs.Get(l.Provider), op, data)
	case OpLabelsPut, OpLabelsDel:
		var req Labels
		if err := decode(data, &req); err != nil {
			return nil, err
		}
		return n.changeLabels(req.Labels, op == OpLabelsDel)
	case OpHostStop:
		n.log.Info("stop requested over the control interface")
		go n.Close(context.Background())
		return nil, nil
	}
	return nil, spore.Errorf(spore.CodeBadRequest, "lattice: unknown host operation %q", op)
}

// StartActor fetches an artifact, verifies and loads it, and serves it. On a
// host that already runs the same module it adds the instances; a higher
// revision of the same actor upgrades it in place.
func (n *Node) StartActor(ctx context.Context, req StartActor) (*ActorInfo, error) {
	if req.Ref == "" {
		return nil, spore.Errorf(spore.CodeBadRequest, "lattice: start actor: no ref")
	}
	if req.Instances <= 0 {
		req.Instances = 1
	}
	module, err := n.state.Fetch(ctx, req.Ref)
	if err != nil {
		return nil, err
	}
	claims, err := signing.Verify(module, signing.VerifyOptions{TrustedIssuers: n.opts.TrustedIssuers})
	if err != nil {
		return nil, n.actorFailed(req.Ref, spore.NewError(spore.CodeBadRequest, fmt.Errorf("lattice: %s: %w", req.Ref, err)))
	}
	n.mu.Lock()
	prev := n.actors[claims.ID]
	n.mu.Unlock()
	if prev != nil && prev.actor.Claims().Token == claims.Token {
		want := prev.actor.Limits().MaxInstances + req.Instances
		return n.ScaleActor(ctx, claims.ID, want)
	}
	limits := req.Limits
	limits.MaxInstances = req.Instances
	a, err := n.host.Load(ctx, module, limits)
	if err != nil {
		return nil, n.actorFailed(req.Ref, spore.NewError(spore.CodeActorFailed, err))
	}
	if err := n.state.PutClaims(ctx, claims); err != nil {
		n.log.Warn("could not record claims", "actor", claims.Name, "err", err)
	}
	ra := &runningActor{actor: a, ref: req.Ref, annotations: req.Annotations}
	if prev != nil {
		ra.sub = prev.sub // same id, same subject: keep serving through the upgrade
	} else if ra.sub, err = n.serveActor(a); err != nil {
		n.host.Unload(ctx, a.ID())
		return nil, fmt.Errorf("lattice: serve %s: %w", a, err)
	}
	n.mu.Lock()
	n.actors[a.ID()] = ra
	info := actorInfo(n.id, ra)
	n.mu.Unlock()
	n.event(EvtActorStarted, info)
	n.log.Info("actor started", "actor", claims.Name, "id", claims.ID, "ref", req.Ref, "instances", info.Instances)
	return &info, nil
}

func (n *Node) actorFailed(ref string, err error) error {
	n.event(EvtActorFailed, map[string]string{"ref": ref, "host_id": n.id, "reason": err.Error()})
	return err
}

// runningActorFor finds a running actor by id, alias or name.
func (n *Node) runningActorFor(ref string) (*runningActor, error) {
	a := n.host.Actor(ref)
	if a == nil {
		return nil, spore.Errorf(spore.CodeNotFound, "lattice: actor %q does not run on host %s", ref, n.id)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ra := n.actors[a.ID()]
	if ra == nil {
		return nil, spore.Errorf(spore.CodeNotFound, "lattice: actor %q does not run on host %s", ref, n.id)
	}
	return ra, nil
}

// StopActor stops serving an actor and unloads it.
func (n *Node) StopActor(ctx context.Context, ref string) error {
	ra, err := n.runningActorFor(ref)
	if err != nil {
		return err
	}
	_ = ra.sub.Drain()
	n.mu.Lock()
	delete(n.actors, ra.actor.ID())
	info := actorInfo(n.id, ra)
	n.mu.Unlock()
	if err := n.host.Unload(ctx, ra.actor.ID()); err != nil {
		return err
	}
	n.event(EvtActorStopped, info)
	n.log.Info("actor stopped", "actor", info.Name, "id", info.ID)
	return nil
}

// ScaleActor sets how many instances of an actor run here.
func (n *Node) ScaleActor(ctx context.Context, ref string, instances int) (*ActorInfo, error) {
	ra, err := n.runningActorFor(ref)
	if err != nil {
		return nil, err
	}
	if instances == 0 {
		return nil, n.StopActor(ctx, ref)
	}
	if err := ra.actor.Scale(ctx, instances); err != nil {
		return nil, spore.NewError(spore.CodeBadRequest, err)
	}
	n.mu.Lock()
	info := actorInfo(n.id, ra)
	n.mu.Unlock()
	n.event(EvtActorScaled, info)
	return &info, nil
}

// StartProvider starts a built-in provider here, serves it to the lattice
// and applies its links. With req.Process it runs in a process of its own
// that this host supervises (see provider_process.go).
func (n *Node) StartProvider(ctx context.Context, req StartProvider) (*ProviderInfo, error) {
	proto, err := providers.New(req.Name)
	if err != nil {
		return nil, spore.NewError(spore.CodeNotFound, err)
	}
	if req.Process {
		return n.startProcess(ctx, req, proto.Contract())
	}
	n.mu.Lock()
	_, outOfProcess := n.procs[req.Name]
	n.mu.Unlock()
	if outOfProcess {
		return nil, spore.Errorf(spore.CodeBadRequest, "lattice: provider %s runs out of process on this host; stop it first", req.Name)
	}
	p, err := n.provs.Start(ctx, req.Name, n.providerEnv(req.Name, proto.Contract()))
	if err != nil {
		return nil, spore.NewError(spore.CodeInternal, err)
	}
	n.mu.Lock()
	_, serving := n.provSubs[req.Name]
	n.mu.Unlock()
	if !serving {
		sub, err := n.serveProvider(p)
		if err != nil {
			n.provs.Stop(ctx, req.Name)
			return nil, fmt.Errorf("lattice: serve provider %s: %w", req.Name, err)
		}
		n.mu.Lock()
		n.provSubs[req.Name] = sub
		n.provAnn[req.Name] = req.Annotations
		n.mu.Unlock()
		for _, l := range n.links.forProvider(req.Name) {
			n.applyLink(ctx, l)
		}
		n.registerAll()
	}
	info := ProviderInfo{Name: p.Name(), Contract: p.Contract(), HostID: n.id, Annotations: req.Annotations}
	n.event(EvtProviderStarted, info)
	n.log.Info("provider started", "provider", p.Name(), "contract", p.Contract())
	return &info, nil
}

// StopProvider stops a provider that runs here, in process or out.
func (n *Node) StopProvider(ctx context.Context, name string) error {
	if n.stopProcess(name) {
		return nil
	}
	n.mu.Lock()
	sub := n.provSubs[name]
	delete(n.provSubs, name)
	delete(n.provAnn, name)
	n.mu.Unlock()
	if sub != nil {
		_ = sub.Drain()
	}
	p := n.provs.Get(name)
	if err := n.provs.Stop(ctx, name); err != nil {
		return err
	}
	unregister(ctx, n.registry, name, n.id)
	n.event(EvtProviderStopped, ProviderInfo{Name: name, Contract: p.Contract(), HostID: n.id})
	return nil
}

// registerAll records (or refreshes) the providers running in this process
// in the providers registry.
func (n *Node) registerAll() {
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	for _, name := range n.provs.Names() {
		if p := n.provs.Get(name); p != nil {
			if err := register(ctx, n.registry, ProviderInfo{Name: name, Contract: p.Contract(), HostID: n.id}); err != nil {
				n.log.Warn("could not refresh the providers registry", "provider", name, "err", err)
			}
		}
	}
}

func (n *Node) unregisterAll() {
	if n.registry == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range n.provs.Names() {
		unregister(ctx, n.registry, name, n.id)
	}
}

func (n *Node) changeLabels(labels map[string]string, del bool) (any, error) {
	n.mu.Lock()
	for k, v := range labels {
		if del {
			delete(n.labels, k)
		} else {
			n.labels[k] = v
		}
	}
	out := copyMap(n.labels)
	n.mu.Unlock()
	n.registerHost() // before the answer: an auction right after it waits for the right hosts
	n.event(EvtLabelsChanged, map[string]any{"host_id": n.id, "labels": out})
	return out, nil
}

// handleLinkPut validates and stores a link. One host of the lattice
// answers (a queue group). The actor may be named by id, alias or name.
func (n *Node) handleLinkPut(ctx context.Context, _ string, data []byte) (any, error) {
	var l spore.Link
	if err := decode(data, &l); err != nil {
		return nil, err
	}
	l, err := n.checkLink(ctx, l)
	if err != nil {
		return nil, err
	}
	if err := applyAcrossRunners(ctx, n.nc, n.subj, n.registry, l); err != nil {
		return nil, err
	}
	if err := n.state.PutLink(ctx, l); err != nil {
		return nil, fmt.Errorf("lattice: store link: %w", err)
	}
	n.event(EvtLinkPut, l)
	return l, nil
}

func (n *Node) handleLinkDel(ctx context.Context, _ string, data []byte) (any, error) {
	var l spore.Link
	if err := decode(data, &l); err != nil {
		return nil, err
	}
	id, err := n.state.ResolveActor(ctx, l.ActorID)
	if err != nil {
		return nil, err
	}
	l.ActorID, l.LinkName = id, spore.LinkName(l.LinkName)
	stored, _, _ := storedLink(ctx, n.state, l.Key())
	existed, err := n.state.DeleteLink(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("lattice: delete link: %w", err)
	}
	if !existed {
		return nil, spore.Errorf(spore.CodeNotFound, "lattice: no link for %s %s (link name %q)", id, l.Contract, l.LinkName)
	}
	if stored.Provider != "" {
		l.Provider = stored.Provider
		syncRunners(ctx, n.nc, n.subj, n.registry, l) // the effect ends before the answer
	}
	n.event(EvtLinkDeleted, l)
	return l, nil
}

// checkLink fills a link's defaults and refuses one that cannot work.
func (n *Node) checkLink(ctx context.Context, l spore.Link) (spore.Link, error) {
	if !spore.IsContractID(l.Contract) {
		return l, spore.Errorf(spore.CodeBadRequest, "lattice: link: %q is not a contract id (such as spore:keyvalue)", l.Contract)
	}
	id, err := n.state.ResolveActor(ctx, l.ActorID)
	if err != nil {
		return l, err
	}
	l.ActorID, l.LinkName = id, spore.LinkName(l.LinkName)
	if l.Provider == "" {
		l.Provider = l.Contract[strings.Index(l.Contract, ":")+1:]
	}
	p, err := providers.New(l.Provider)
	if err != nil {
		return l, spore.NewError(spore.CodeBadRequest, fmt.Errorf("lattice: link: %w", err))
	}
	if p.Contract() != l.Contract {
		return l, spore.Errorf(spore.CodeBadRequest, "lattice: link: provider %q serves %s, not %s", l.Provider, p.Contract(), l.Contract)
	}
	if v, ok := p.(providers.LinkValidator); ok {
		if err := v.ValidateLink(l); err != nil {
			return l, spore.NewError(spore.CodeBadRequest, fmt.Errorf("lattice: link: %w", err))
		}
	}
	c, ok := n.claims.get(id)
	if !ok {
		// Claims recorded a moment ago may not have reached the mirror.
		c, ok = n.state.claimsOf(ctx, id)
	}
	if ok && !spore.Unlinked(l.Contract) && !c.HasCap(l.Contract) {
		return l, spore.Errorf(spore.CodeBadRequest, "lattice: link: actor %q (%s) has no claim for %s: sign it with --cap %s, start the new revision, then put the link",
			c.Name, id, l.Contract, l.Contract)
	}
	return l, nil
}
