package lattice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/providers"
)

// DefaultCallTimeout bounds a call across the lattice whose caller set no
// deadline.
const DefaultCallTimeout = 30 * time.Second

// blobThreshold is the largest payload sent inline. Anything larger travels
// through the blobs object store, so payloads are bounded by JetStream, not
// by the server's max_payload. It leaves room for the envelope.
func blobThreshold(nc *nats.Conn) int {
	return int(nc.MaxPayload()) - 64<<10
}

// Interface guards
var _ host.Router = (*Node)(nil)

// Route implements host.Router: host calls the local host could not serve.
// Contracts go to a provider on this host if one runs here, else across the
// lattice; actors (by id, alias or name) go across the lattice.
func (n *Node) Route(ctx context.Context, call *host.Call) ([]byte, error) {
	if spore.IsContractID(call.Namespace) {
		if call.Link == nil {
			// Unlinked contracts (logging) are always served in-process.
			return n.provs.Route(ctx, call)
		}
		if p := n.provs.Get(call.Link.Provider); p != nil {
			return p.Handle(ctx, RequestOf(call))
		}
		inv := &Invocation{
			Origin: call.Actor.ID(), OriginName: call.Actor.Claims().Name,
			Target: call.Link.Provider, Operation: call.Operation, Payload: call.Payload, Link: call.Link,
		}
		out, err := n.invoke(ctx, n.subj.ProviderRPC(call.Link.Provider, call.Link.LinkName), inv)
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, spore.Errorf(spore.CodeUnavailable,
				"%s: provider %q for %s (link name %q) is not running in lattice %q: start it with 'spore provider start %s'",
				call.Actor, call.Link.Provider, call.Namespace, call.Binding, n.opts.Lattice, call.Link.Provider)
		}
		return out, err
	}
	id, err := n.claims.resolve(call.Namespace)
	if err != nil && spore.CodeOf(err) == spore.CodeNotFound {
		// Claims recorded a moment ago may not have reached the mirror.
		id, err = n.state.ResolveActor(ctx, call.Namespace)
	}
	if err != nil {
		return nil, err
	}
	if a := n.host.Actor(id); a != nil {
		return a.Invoke(ctx, call.Operation, call.Payload)
	}
	inv := &Invocation{
		Origin: call.Actor.ID(), OriginName: call.Actor.Claims().Name,
		Target: id, Operation: call.Operation, Payload: call.Payload,
	}
	return n.invoke(ctx, n.actorRPC(id), inv)
}

// InvokeActor calls an actor by id wherever it runs: in this process when it
// runs here, across the lattice otherwise. Providers deliver through it.
func (n *Node) InvokeActor(ctx context.Context, actorID, op string, payload []byte) ([]byte, error) {
	if a := n.host.Actor(actorID); a != nil {
		return a.Invoke(ctx, op, payload)
	}
	return n.invoke(ctx, n.actorRPC(actorID), &Invocation{Origin: "host:" + n.id, Target: actorID, Operation: op, Payload: payload})
}

// actorRPC is n.subj.ActorRPC(id), made once per actor id: calls name
// their targets over and over.
func (n *Node) actorRPC(id string) string {
	if s, ok := n.rpcSubjects.Load(id); ok {
		return s.(string)
	}
	s := n.subj.ActorRPC(id)
	n.rpcSubjects.Store(id, s)
	return s
}

// invoke sends a signed invocation and waits for its result.
func (n *Node) invoke(ctx context.Context, subject string, inv *Invocation) ([]byte, error) {
	return sendInvocation(ctx, n.replies, n.state, n.key, subject, inv)
}

// ids hands out invocation ids from NUID generators, one per concurrent
// caller: nuid.Next shares one behind a lock, which every call took.
var ids = sync.Pool{New: func() any { return nuid.New() }}

func nextID() string {
	g := ids.Get().(*nuid.NUID)
	id := g.Next()
	ids.Put(g)
	return id
}

// sendInvocation is the caller's half of the RPC, shared by hosts and the
// CLI client.
func sendInvocation(ctx context.Context, rep *replies, st *State, key *ClusterKey, subject string, inv *Invocation) ([]byte, error) {
	nc := rep.nc
	// only says that nothing but the deadline can end this call: a pooled
	// timer then waits for it, and no context timer is made.
	dl, ok := ctx.Deadline()
	only := false
	switch {
	case !ok && ctx.Done() == nil:
		dl, only = time.Now().Add(DefaultCallTimeout), true
	case !ok:
		dctx := host.NewDeadlineContext(ctx, time.Now().Add(DefaultCallTimeout))
		defer dctx.Cancel()
		ctx = dctx
		dl, _ = ctx.Deadline()
	default:
		_, only = host.DeadlineOnly(ctx)
	}
	inv.ID = nextID()
	inv.Deadline = dl.UnixNano()
	inv.Trace = traceFrom(ctx)
	if len(inv.Payload) > blobThreshold(nc) {
		bctx, cancel := context.WithDeadline(ctx, dl)
		err := st.putBlob(bctx, inv.ID, inv.Payload)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("lattice: large payload: %w", err)
		}
		inv.Blob, inv.Payload = inv.ID, nil
	}
	key.Sign(inv)
	buf := getBuf(inv.encodedSize())
	data := inv.appendMsgpack(*buf)
	var (
		msg *nats.Msg
		err error
	)
	msg, err = rep.request(ctx, subject, inv.ID, data, dl, only)
	*buf = data
	putBuf(buf)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, spore.NewError(spore.CodeUnavailable, noResponders(
			fmt.Sprintf("lattice: nothing in lattice %q serves %s (%s)", st.subj.L, inv.Target, inv.Operation)))
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return nil, spore.Errorf(spore.CodeTimeout, "lattice: %s %s: no answer in time: %w", inv.Target, inv.Operation, err)
	case err != nil:
		return nil, spore.Errorf(spore.CodeUnavailable, "lattice: %s %s: %w", inv.Target, inv.Operation, err)
	}
	var res Result
	if err := res.decode(msg.Data); err != nil {
		return nil, fmt.Errorf("lattice: %s %s: malformed result: %w", inv.Target, inv.Operation, err)
	}
	if res.Error != nil {
		return nil, res.Error
	}
	if res.Blob != "" {
		bctx, cancel := context.WithDeadline(ctx, dl)
		defer cancel()
		return st.takeBlob(bctx, res.Blob)
	}
	if res.Payload == nil {
		res.Payload = []byte{}
	}
	return res.Payload, nil
}

// rpcEnd is what serving an invocation needs; hosts and provider processes
// each make one.
type rpcEnd struct {
	ctx   context.Context // ends when the server stops
	nc    *nats.Conn
	state *State
	key   *ClusterKey
	log   *slog.Logger
	event func(typ string, data any)
	// replies, when set, carries the results instead of the connection
	// the invocation came on.
	replies *nats.Conn
}

func (n *Node) rpcEnd() rpcEnd {
	return rpcEnd{ctx: n.ctx, nc: n.nc, state: n.state, key: n.key, log: n.log, event: n.event}
}

// serve checks one invocation's token, runs handle, and answers.
func (e rpcEnd) serve(m *nats.Msg, handle func(ctx context.Context, inv *Invocation) ([]byte, error)) {
	inv, err := DecodeInvocation(m.Data)
	if err == nil {
		err = e.key.Verify(inv)
	}
	if err != nil {
		// Dropped, not answered: a forger learns nothing. The event lets
		// an operator see it.
		e.log.Warn("dropped an invocation", "subject", m.Subject, "err", err)
		e.event(EvtInvocationRejected, map[string]string{"subject": m.Subject, "reason": err.Error()})
		return
	}
	ctx := host.NewDeadlineContext(withTrace(e.ctx, inv.Trace), inv.deadline(DefaultCallTimeout))
	defer ctx.Cancel()
	if inv.Blob != "" {
		if inv.Payload, err = e.state.takeBlob(ctx, inv.Blob); err != nil {
			e.reply(ctx, m, inv, nil, err)
			return
		}
	}
	out, err := handle(ctx, inv)
	e.reply(ctx, m, inv, out, err)
}

func (e rpcEnd) reply(ctx context.Context, m *nats.Msg, inv *Invocation, out []byte, err error) {
	if m.Reply == "" {
		return
	}
	res := Result{ID: inv.ID}
	if err != nil {
		var se *spore.Error
		if !errors.As(err, &se) {
			se = spore.NewError(spore.CodeInternal, err)
		}
		res.Error = &spore.Error{Code: se.Code, Message: se.Message}
	} else if len(out) > blobThreshold(e.nc) {
		name := inv.ID + ".result"
		if perr := e.state.putBlob(ctx, name, out); perr != nil {
			res.Error = spore.Errorf(spore.CodeInternal, "lattice: large result: %v", perr)
		} else {
			res.Blob = name
		}
	} else {
		res.Payload = out
	}
	buf := getBuf(len(res.Payload) + 64)
	data := res.appendMsgpack(*buf)
	if e.replies != nil {
		_ = e.replies.Publish(m.Reply, data)
	} else {
		_ = m.Respond(data)
	}
	*buf = data
	putBuf(buf)
}

// noResponders is the message of an invocation nobody took; errors.Is
// finds nats.ErrNoResponders in it.
type noResponders string

func (e noResponders) Error() string { return string(e) }
func (e noResponders) Unwrap() error { return nats.ErrNoResponders }

// serveActor answers invocations for an actor that runs here. An
// invocation a provider delivers carries the provider's contract, and the
// actor's claims must list it.
//
// The actor is looked up by id on each call, not kept: an upgrade in place
// replaces it behind the same subscription.
func (n *Node) serveActor(a *host.Actor) (*nats.Subscription, error) {
	id := a.ID()
	subject := n.subj.ActorRPC(id)
	return n.serveInvocations(subject, subject, func(ctx context.Context, inv *Invocation) ([]byte, error) {
		a := n.host.Actor(id)
		if a == nil {
			return nil, spore.Errorf(spore.CodeUnavailable, "lattice: actor %s does not run on host %s any more", id, n.id)
		}
		if inv.Link != nil && !a.Claims().HasCap(inv.Link.Contract) {
			return nil, noClaim(a.String(), inv.Link.Contract)
		}
		return a.Invoke(ctx, inv.Operation, inv.Payload)
	})
}

// serveProvider answers invocations for a provider that runs here.
func (n *Node) serveProvider(p providers.Provider) (*nats.Subscription, error) {
	return n.serveInvocations(n.subj.ProviderRPCAll(p.Name()), n.subj.ProviderRPCAll(p.Name()),
		func(ctx context.Context, inv *Invocation) ([]byte, error) {
			return handleProviderCall(ctx, n.state, p, inv)
		})
}
