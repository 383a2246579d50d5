// Package messaging is the spore:messaging provider: actors publish and
// request on NATS subjects, and receive the messages of their link's
// subscriptions through Messaging.HandleMessage.
//
// Link values:
//
//	subscriptions  comma separated subjects, "subject|queue" for a queue
//	               group: "orders.*,audit|workers". Optional: an actor
//	               may only publish
//	url            another NATS to use, such as nats://broker:4222;
//	               default: the lattice's own connection
//
// Data enters as a NATS message on a subscription: the provider calls the
// actor's Messaging.HandleMessage with {subject, reply_to, body}, and sends
// a non-empty answer to reply_to. It leaves through Messaging.Publish and
// Messaging.Request, which an actor calls.
//
// A subscription without a queue group is still shared by every copy of
// this provider in the lattice (a queue group named after the link), so
// each message reaches the link's actor once however many hosts run the
// provider; links of different actors each get every message. "subject|q"
// puts the link in the group q, shared with whoever else joins it.
//
// # Rules
//
// The lattice's own subjects are out of reach: an actor can never publish,
// request, reply or subscribe on spore.>, nor on any subject whose first
// token starts with "$" ($JS, $KV, $SYS, ...), nor subscribe on _INBOX.>
// or with a wildcard first token (which would match spore.>). A link whose
// subscriptions break a rule is refused when it is put; a call that breaks
// one is refused with code denied. Publishing to _INBOX.x is allowed, as
// replies go there.
package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
)

// Name is the provider's registered name.
const Name = "messaging"

func init() { providers.Register(Name, func() providers.Provider { return &Provider{} }) }

// Link value names.
const (
	ValueSubscriptions = "subscriptions"
	ValueURL           = "url"
)

// Defaults and limits.
const (
	// DefaultRequestTimeout is Messaging.Request's wait when the actor
	// gives none; MaxRequestTimeout caps what it may give.
	DefaultRequestTimeout = 5 * time.Second
	MaxRequestTimeout     = time.Minute
	// HandleTimeout bounds one Messaging.HandleMessage call.
	HandleTimeout = 30 * time.Second
	// MaxInFlight bounds the messages one link delivers at once; more wait
	// in the subscription (and NATS drops them for a slow consumer).
	MaxInFlight = 64
)

// Provider serves spore:messaging. The zero value is ready to Start.
type Provider struct {
	mu    sync.Mutex
	state providers.State
	env   providers.Env
	conns map[string]*conn    // by url; "" is the lattice's
	links map[string]*binding // by link key

	ctx    context.Context // ends when the provider stops
	cancel context.CancelFunc
	wg     sync.WaitGroup // message deliveries
}

// conn is a NATS connection shared by the links that name its URL.
type conn struct {
	nc   *nats.Conn
	own  bool // made here, closed with the last link
	refs int
}

// binding is one applied link.
type binding struct {
	link spore.Link
	cfg  config
	conn *conn
	subs []*nats.Subscription
	sem  chan struct{}
}

type config struct {
	url  string
	subs []subscription
}

type subscription struct{ subject, queue string }

func (c config) equal(o config) bool {
	if c.url != o.url || len(c.subs) != len(o.subs) {
		return false
	}
	for i := range c.subs {
		if c.subs[i] != o.subs[i] {
			return false
		}
	}
	return true
}

// Interface guards
var (
	_ providers.Provider      = (*Provider)(nil)
	_ providers.LinkValidator = (*Provider)(nil)
)

// Name implements providers.Provider.
func (*Provider) Name() string { return Name }

// Contract implements providers.Provider.
func (*Provider) Contract() string { return spore.ContractMessaging }

// Start implements providers.Provider.
func (p *Provider) Start(_ context.Context, env providers.Env) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if env.Invoke == nil {
		return errors.New("messaging: start: the Env has no Invoke to call actors with")
	}
	if err := p.state.Start(p); err != nil {
		return err
	}
	p.env = env
	p.conns = map[string]*conn{}
	p.links = map[string]*binding{}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return nil
}

// ValidateLink implements providers.LinkValidator.
func (p *Provider) ValidateLink(l spore.Link) error {
	_, err := p.config(l)
	return err
}

func (p *Provider) config(l spore.Link) (config, error) {
	if err := providers.CheckKeys(p, l, ValueSubscriptions, ValueURL); err != nil {
		return config{}, err
	}
	c := config{url: l.Values[ValueURL]}
	if c.url != "" {
		if err := checkURL(c.url); err != nil {
			return c, providers.BadLink(p, l, "url=%q: %v", c.url, err)
		}
	}
	for _, item := range providers.ListValue(l.Values[ValueSubscriptions]) {
		subject, queue, _ := strings.Cut(item, "|")
		s := subscription{subject: strings.TrimSpace(subject), queue: strings.TrimSpace(queue)}
		if err := CheckSubscribe(s.subject); err != nil {
			return c, providers.BadLink(p, l, "subscriptions: %v", err)
		}
		if strings.ContainsAny(s.queue, " \t\r\n") || strings.Contains(item, "|") && s.queue == "" {
			return c, providers.BadLink(p, l, "subscriptions: queue group %q of %s: want a name without spaces", s.queue, s.subject)
		}
		if s.queue == "" {
			s.queue = "spore-link." + l.Key() // one delivery per link, see the package doc
		}
		c.subs = append(c.subs, s)
	}
	return c, nil
}

// checkURL accepts what nats.Connect does: comma separated nats://,
// tls://, ws:// or wss:// URLs.
func checkURL(s string) error {
	for _, u := range strings.Split(s, ",") {
		pu, err := url.Parse(strings.TrimSpace(u))
		if err != nil || pu.Host == "" {
			return errors.New("want a NATS URL such as nats://host:4222")
		}
		switch pu.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("scheme %q: want nats, tls, ws or wss", pu.Scheme)
		}
	}
	return nil
}

// PutLink implements providers.Provider: it connects to url when the link
// names one, and subscribes. Putting the same link again changes nothing;
// other values replace its subscriptions.
func (p *Provider) PutLink(_ context.Context, l spore.Link) error {
	c, err := p.config(l)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.state.Check(p); err != nil {
		return err
	}
	old := p.links[l.Key()]
	if old != nil && old.cfg.equal(c) && old.link.ActorID == l.ActorID {
		return nil
	}
	cn, err := p.acquire(c.url)
	if err != nil {
		return spore.Errorf(spore.CodeUnavailable, "messaging: link %s: %w", l, err)
	}
	b := &binding{link: l, cfg: c, conn: cn, sem: make(chan struct{}, MaxInFlight)}
	for _, s := range c.subs {
		sub, err := cn.nc.QueueSubscribe(s.subject, s.queue, func(m *nats.Msg) { p.deliver(b, m) })
		if err != nil {
			p.unbind(b)
			return spore.Errorf(spore.CodeUnavailable, "messaging: link %s: subscribe %s: %w", l, s.subject, err)
		}
		b.subs = append(b.subs, sub)
	}
	// The server knows the interest before PutLink returns, so a message
	// published right after is delivered.
	if err := cn.nc.FlushTimeout(5 * time.Second); err != nil && len(b.subs) > 0 {
		p.unbind(b)
		return spore.Errorf(spore.CodeUnavailable, "messaging: link %s: %w", l, err)
	}
	if old != nil {
		p.unbind(old)
	}
	p.links[l.Key()] = b
	return nil
}

// acquire returns the connection for url, connecting when needed. p.mu is
// held.
func (p *Provider) acquire(u string) (*conn, error) {
	if c := p.conns[u]; c != nil {
		c.refs++
		return c, nil
	}
	c := &conn{}
	if u == "" {
		if p.env.NATS == nil {
			return nil, errors.New("no lattice NATS connection here: give the link a url")
		}
		c.nc = p.env.NATS
	} else {
		nc, err := nats.Connect(u, nats.Name("spore messaging provider"), nats.MaxReconnects(-1), nats.Timeout(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("connect %s: %w", u, err)
		}
		c.nc, c.own = nc, true
	}
	c.refs = 1
	p.conns[u] = c
	return c, nil
}

// unbind ends a binding's subscriptions and releases its connection. The
// server has dropped the interest when it returns, so no message published
// after is delivered; the deliveries in flight finish. p.mu is held.
func (p *Provider) unbind(b *binding) {
	for _, s := range b.subs {
		_ = s.Unsubscribe()
	}
	if len(b.subs) > 0 {
		_ = b.conn.nc.FlushTimeout(2 * time.Second)
	}
	b.subs = nil
	if b.conn.refs--; b.conn.refs <= 0 {
		delete(p.conns, b.cfg.url)
		if b.conn.own {
			b.conn.nc.Close()
		}
	}
}

// DeleteLink implements providers.Provider: the link's subscriptions end.
func (p *Provider) DeleteLink(_ context.Context, l spore.Link) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.links[l.Key()]; b != nil {
		delete(p.links, l.Key())
		p.unbind(b)
	}
	return nil
}

// Stop implements providers.Provider: it ends every subscription, cancels
// the deliveries in flight and waits for them.
func (p *Provider) Stop(context.Context) error {
	p.mu.Lock()
	if p.state.Stop() {
		for k, b := range p.links {
			delete(p.links, k)
			p.unbind(b)
		}
		p.cancel()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// deliver hands one message to the link's actor and sends its reply. It
// runs on the subscription's goroutine and returns once a delivery slot is
// free, so at most MaxInFlight messages per link are with the actor.
func (p *Provider) deliver(b *binding, m *nats.Msg) {
	select {
	case b.sem <- struct{}{}:
	case <-p.ctx.Done():
		return
	}
	p.wg.Add(1)
	go func() {
		defer func() { <-b.sem; p.wg.Done() }()
		payload, err := msgpack.Marshal(&spore.Message{Subject: m.Subject, ReplyTo: m.Reply, Body: m.Data})
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(p.ctx, HandleTimeout)
		defer cancel()
		out, err := p.env.Invoke(ctx, b.link.ActorID, spore.OpMsgHandleMessage, payload)
		if err != nil {
			p.log().Warn("actor failed to handle a message", "actor", b.link.ActorID, "subject", m.Subject, "err", err)
			return
		}
		if m.Reply != "" && len(out) > 0 {
			if err := m.Respond(out); err != nil {
				p.log().Warn("could not send an actor's reply", "actor", b.link.ActorID, "subject", m.Reply, "err", err)
			}
		}
	}()
}

func (p *Provider) bindingFor(l spore.Link) (*binding, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.state.Check(p); err != nil {
		return nil, err
	}
	b := p.links[l.Key()]
	if b == nil {
		return nil, providers.NoLink(p, l)
	}
	return b, nil
}

// Handle implements providers.Provider: Messaging.Publish and
// Messaging.Request.
func (p *Provider) Handle(ctx context.Context, req *providers.Request) ([]byte, error) {
	op := req.Operation
	if op != spore.OpMsgPublish && op != spore.OpMsgRequest {
		return nil, providers.UnknownOperation(p, op)
	}
	b, err := p.bindingFor(req.Link)
	if err != nil {
		return nil, err
	}
	nc := b.conn.nc
	if op == spore.OpMsgPublish {
		var m spore.Message
		if err := providers.Decode(p, op, req.Payload, &m); err != nil {
			return nil, err
		}
		if err := denied(op, m.Subject, CheckPublish(m.Subject)); err != nil {
			return nil, err
		}
		if m.ReplyTo != "" {
			if err := denied(op, m.ReplyTo, CheckPublish(m.ReplyTo)); err != nil {
				return nil, err
			}
		}
		if err := nc.PublishMsg(&nats.Msg{Subject: m.Subject, Reply: m.ReplyTo, Data: m.Body}); err != nil {
			return nil, spore.Errorf(spore.CodeUnavailable, "messaging: publish %s: %w", m.Subject, err)
		}
		return nil, nil
	}
	var r spore.RequestMessage
	if err := providers.Decode(p, op, req.Payload, &r); err != nil {
		return nil, err
	}
	if err := denied(op, r.Subject, CheckPublish(r.Subject)); err != nil {
		return nil, err
	}
	timeout := DefaultRequestTimeout
	if r.TimeoutMs > 0 {
		timeout = min(time.Duration(r.TimeoutMs)*time.Millisecond, MaxRequestTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg, err := nc.RequestWithContext(ctx, r.Subject, r.Body)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, spore.Errorf(spore.CodeUnavailable, "messaging: request %s: no one answers on that subject", r.Subject)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return nil, spore.Errorf(spore.CodeTimeout, "messaging: request %s: no reply within %s", r.Subject, timeout)
	case err != nil:
		return nil, spore.Errorf(spore.CodeUnavailable, "messaging: request %s: %w", r.Subject, err)
	}
	return providers.Encode(p, op, &spore.Message{Subject: msg.Subject, ReplyTo: msg.Reply, Body: msg.Data})
}

// denied turns a rule broken by a call into a denied error.
func denied(op, subject string, err error) error {
	if err == nil {
		return nil
	}
	code := spore.CodeDenied
	if errors.Is(err, ErrBadSubject) {
		code = spore.CodeBadRequest
	}
	return spore.Errorf(code, "messaging: %s: %w", op, err)
}

func (p *Provider) log() *slog.Logger {
	if p.env.Log != nil {
		return p.env.Log
	}
	return slog.Default()
}
