package lattice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore"
)

// Client drives a lattice from outside: the CLI, tests, the app reconciler.
// It speaks the control interface and calls actors with signed invocations.
type Client struct {
	nc      *nats.Conn
	ownConn bool
	rep     *replies // results of Call; made on first use, or the node's
	repOnce sync.Once
	repErr  error
	// sharedRep says rep is its node's, which closing the client leaves.
	sharedRep bool
	subj      Subjects
	state     *State
	key       *ClusterKey
	names     sync.Map // actor name or alias -> id, filled by Call
	// Wait bounds how long scatter requests (ping, auction) collect
	// answers; they return sooner once every live host has answered.
	Wait time.Duration
}

// ClientOptions configure Connect.
type ClientOptions struct {
	URL         string
	Lattice     string
	ClusterSeed string
	Name        string
}

// Connect joins a lattice as a client.
func Connect(ctx context.Context, o ClientOptions) (*Client, error) {
	if o.Lattice == "" {
		o.Lattice = "default"
	}
	if err := CheckLatticeID(o.Lattice); err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = "spore client"
	}
	nc, err := nats.Connect(o.URL, nats.Name(name), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, spore.Errorf(spore.CodeUnavailable, "lattice: connect %s: %v (is a host up? start one with 'spore up')", o.URL, err)
	}
	c, err := NewClient(ctx, nc, o.Lattice, o.ClusterSeed)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.ownConn = true
	return c, nil
}

// NewClient makes a client on an existing connection, which it does not
// close.
func NewClient(ctx context.Context, nc *nats.Conn, lattice, clusterSeed string) (*Client, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	st, err := OpenState(ctx, js, lattice)
	if err != nil {
		return nil, err
	}
	key, err := st.ClusterKeyFor(ctx, clusterSeed, false)
	if err != nil {
		return nil, err
	}
	return &Client{nc: nc, subj: Subjects{lattice}, state: st, key: key, Wait: time.Second}, nil
}

// Close closes the client's connection if it made it.
func (c *Client) Close() {
	if c.ownConn {
		c.nc.Close()
		return
	}
	c.repOnce.Do(func() {}) // no inbox made from now on
	if c.rep != nil && c.repErr == nil && !c.sharedRep {
		c.rep.close()
	}
}

// State is the lattice state.
func (c *Client) State() *State { return c.state }

// Conn is the client's NATS connection.
func (c *Client) Conn() *nats.Conn { return c.nc }

// Subjects are the lattice's subjects.
func (c *Client) Subjects() Subjects { return c.subj }

// request sends one control request and decodes the reply's data into out.
func (c *Client) request(ctx context.Context, subject string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, controlTimeout)
		defer cancel()
	}
	m, err := c.nc.RequestWithContext(ctx, subject, b)
	if errors.Is(err, nats.ErrNoResponders) {
		return spore.Errorf(spore.CodeUnavailable, "lattice: no host answers on %s", subject)
	}
	if err != nil {
		return spore.Errorf(spore.CodeUnavailable, "lattice: %s: %v", subject, err)
	}
	return decodeReply(m.Data, out)
}

func decodeReply(data []byte, out any) error {
	var r Reply
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("lattice: malformed reply: %w", err)
	}
	if r.Error != nil {
		return r.Error
	}
	if out != nil && len(r.Data) > 0 {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

// scatter sends a request that every host whose labels hold the
// constraints answers with its HostInfo (a ping has none; an auction's
// losers stay silent), and collects the answers. It stops:
//
//   - at once when NATS reports that nothing listens (the no-responders
//     status: no host is up);
//   - when every host due to answer has answered, and then none came for
//     as long again as that took (at least minQuiet): the hosts registry,
//     read while the request is out, says which hosts are due, and the
//     quiet gap leaves room for hosts it does not list yet, such as one
//     that just started or one that keeps no entry;
//   - otherwise, as when the registry cannot be read, when no answer came
//     for a quarter of c.Wait after the first, or at c.Wait.
//
// # Notes
//
// NATS tells a requester whether anything listens, but not how many do
// (short of the system account), so the count comes from the registry: one
// JetStream read, made while the request is out, that the CLI can afford.
// Hosts could instead name the peers they heard in their answers, but a
// host that just started has heard none. A host that died stays listed for
// up to HostTTL, and one whose entry could not be refreshed after a label
// change may be listed for an auction it no longer answers: either only
// costs the wait scatter made before there was a registry.
func scatter(ctx context.Context, c *Client, subject string, in any, constraints map[string]string) ([]HostInfo, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	inbox := c.nc.NewRespInbox()
	ch := make(chan *nats.Msg, 256)
	sub, err := c.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	dctx, cancel := context.WithTimeout(ctx, c.Wait)
	defer cancel()
	dueCh := make(chan map[string]bool, 1)
	go func() { dueCh <- c.dueHosts(dctx, constraints) }()
	sent := time.Now()
	if err := c.nc.PublishRequest(subject, inbox, b); err != nil {
		return nil, err
	}
	var out []HostInfo
	answered := map[string]bool{}
	var due map[string]bool // nil until the registry is read, or when it cannot be
	settled := false        // every due host answered: only the quiet gap is left
	quiet := c.Wait / 4
	total := time.NewTimer(c.Wait)
	defer total.Stop()
	idle := time.NewTimer(quiet)
	defer idle.Stop()
	for {
		select {
		case m := <-ch:
			if len(m.Data) == 0 && m.Header.Get("Status") == "503" { // no responders
				return out, nil
			}
			var h HostInfo
			if decodeReply(m.Data, &h) == nil {
				out = append(out, h)
				answered[h.ID] = true
			}
			idle.Reset(quiet)
		case due = <-dueCh:
			dueCh = nil
		case <-idle.C:
			if settled || len(out) > 0 {
				return out, nil
			}
		case <-total.C:
			return out, nil
		case <-ctx.Done():
			return out, ctx.Err()
		}
		if !settled && due != nil && allIn(due, answered) {
			settled = true
			quiet = min(max(time.Since(sent), minQuiet), c.Wait/4)
			idle.Reset(quiet)
		}
	}
}

// minQuiet is the shortest quiet gap scatter leaves, once every host due
// to answer has, for hosts the hosts registry does not list.
const minQuiet = 5 * time.Millisecond

// allIn reports whether every key of want is in got.
func allIn(want, got map[string]bool) bool {
	for k := range want {
		if !got[k] {
			return false
		}
	}
	return true
}

// Hosts pings the lattice and returns every host that answers, by id.
func (c *Client) Hosts(ctx context.Context) ([]HostInfo, error) {
	hosts, err := scatter(ctx, c, c.subj.Ctl(OpPing), struct{}{}, nil)
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].ID < hosts[j].ID })
	return hosts, err
}

// Inventory asks one host for its actors and providers with their counters.
func (c *Client) Inventory(ctx context.Context, hostID string) (*HostInfo, error) {
	var hi HostInfo
	if err := c.request(ctx, c.subj.HostCtl(hostID, OpInventory), struct{}{}, &hi); err != nil {
		return nil, err
	}
	return &hi, nil
}

// Auction returns the hosts whose labels satisfy the constraints, least
// loaded first.
func (c *Client) Auction(ctx context.Context, a Auction) ([]HostInfo, error) {
	hosts, err := scatter(ctx, c, c.subj.Ctl(OpAuction), a, a.Constraints)
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].Instances < hosts[j].Instances })
	return hosts, nil
}

// StartActor places an actor: on hostID when given, else on the least
// loaded host whose labels satisfy the constraints. It returns when the host
// runs the actor, or with the host's reason.
func (c *Client) StartActor(ctx context.Context, req StartActor, constraints map[string]string, hostID string) (*ActorInfo, error) {
	if hostID == "" {
		hosts, err := c.Auction(ctx, Auction{Constraints: constraints})
		if err != nil {
			return nil, err
		}
		if len(hosts) == 0 {
			return nil, spore.Errorf(spore.CodeUnavailable, "lattice: no host satisfies %s", describeConstraints(constraints))
		}
		hostID = hosts[0].ID
	}
	var ai ActorInfo
	if err := c.request(ctx, c.subj.HostCtl(hostID, OpActorStart), req, &ai); err != nil {
		return nil, err
	}
	return &ai, nil
}

func describeConstraints(m map[string]string) string {
	if len(m) == 0 {
		return "the request (is any host up?)"
	}
	s := ""
	for _, k := range sortedKeys(m) {
		s += fmt.Sprintf(" %s=%s", k, m[k])
	}
	return "the constraints" + s
}

// StopActor stops an actor on one host.
func (c *Client) StopActor(ctx context.Context, hostID, actor string) error {
	return c.request(ctx, c.subj.HostCtl(hostID, OpActorStop), StopActor{Actor: actor}, nil)
}

// ScaleActor sets an actor's instances on one host.
func (c *Client) ScaleActor(ctx context.Context, hostID, actor string, instances int) (*ActorInfo, error) {
	var ai ActorInfo
	if err := c.request(ctx, c.subj.HostCtl(hostID, OpActorScale), ScaleActor{Actor: actor, Instances: instances}, &ai); err != nil {
		return nil, err
	}
	return &ai, nil
}

// StartProvider starts a provider on hostID, or on an auctioned host.
func (c *Client) StartProvider(ctx context.Context, req StartProvider, constraints map[string]string, hostID string) (*ProviderInfo, error) {
	if hostID == "" {
		hosts, err := c.Auction(ctx, Auction{Constraints: constraints, Provider: req.Name})
		if err != nil {
			return nil, err
		}
		if len(hosts) == 0 {
			return nil, spore.Errorf(spore.CodeUnavailable, "lattice: no host satisfies %s", describeConstraints(constraints))
		}
		hostID = hosts[0].ID
	}
	var pi ProviderInfo
	if err := c.request(ctx, c.subj.HostCtl(hostID, OpProviderStart), req, &pi); err != nil {
		return nil, err
	}
	return &pi, nil
}

// StopProvider stops a provider on one host.
func (c *Client) StopProvider(ctx context.Context, hostID, name string) error {
	return c.request(ctx, c.subj.HostCtl(hostID, OpProviderStop), StopProvider{Name: name}, nil)
}

// StopHost asks a host to shut down.
func (c *Client) StopHost(ctx context.Context, hostID string) error {
	return c.request(ctx, c.subj.HostCtl(hostID, OpHostStop), struct{}{}, nil)
}

// SetLabels adds or removes labels on a host.
func (c *Client) SetLabels(ctx context.Context, hostID string, labels map[string]string, remove bool) (map[string]string, error) {
	op := OpLabelsPut
	if remove {
		op = OpLabelsDel
	}
	var out map[string]string
	err := c.request(ctx, c.subj.HostCtl(hostID, op), Labels{Labels: labels}, &out)
	return out, err
}

// PutLink validates and stores a link; the reply is the link as stored.
func (c *Client) PutLink(ctx context.Context, l spore.Link) (*spore.Link, error) {
	var out spore.Link
	if err := c.request(ctx, c.subj.Ctl(OpLinkPut), l, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteLink removes a link.
func (c *Client) DeleteLink(ctx context.Context, l spore.Link) error {
	return c.request(ctx, c.subj.Ctl(OpLinkDel), l, nil)
}

// Links lists the lattice's links.
func (c *Client) Links(ctx context.Context) ([]spore.Link, error) {
	if err := c.needState(); err != nil {
		return nil, err
	}
	return c.state.ListLinks(ctx)
}

// Push stores a signed module in the lattice's artifact store.
func (c *Client) Push(ctx context.Context, module []byte, progress func(sent, total int)) (*Artifact, error) {
	if err := c.needState(); err != nil {
		return nil, err
	}
	return c.state.Push(ctx, module, progress)
}

// needState refuses, with a reason, what a control-only client cannot do.
func (c *Client) needState() error {
	if c.state == nil {
		return spore.Errorf(spore.CodeUnavailable, "lattice: %s: this client reaches only the control interface, not the lattice state (JetStream)", c.subj.L)
	}
	return nil
}

// Call invokes an operation on an actor named by id, alias or name,
// wherever it runs. A name is resolved once per client.
func (c *Client) Call(ctx context.Context, actor, op string, payload []byte) ([]byte, error) {
	id, err := c.resolve(ctx, actor)
	if err != nil {
		return nil, err
	}
	inv := &Invocation{Origin: "client", Target: id, Operation: op, Payload: payload}
	rep, err := c.replies()
	if err != nil {
		return nil, err
	}
	return sendInvocation(ctx, rep, c.state, c.key, c.subj.ActorRPC(id), inv)
}

// replies is the client's inbox for results, subscribed on first use.
func (c *Client) replies() (*replies, error) {
	c.repOnce.Do(func() {
		if c.rep == nil {
			c.rep, c.repErr = newReplies(c.nc)
		}
	})
	return c.rep, c.repErr
}

func (c *Client) resolve(ctx context.Context, actor string) (string, error) {
	if err := c.needState(); err != nil {
		return "", err
	}
	if id, ok := c.names.Load(actor); ok {
		return id.(string), nil
	}
	id, err := c.state.ResolveActor(ctx, actor)
	if err == nil {
		c.names.Store(actor, id)
	}
	return id, err
}

// Events delivers the lattice's events whose type matches filter (a NATS
// token pattern such as "*", "actor_*" is not one; use "*" and filter) until
// ctx ends.
func (c *Client) Events(ctx context.Context, typ string, f func(Event)) error {
	if typ == "" {
		typ = "*"
	}
	ch := make(chan *nats.Msg, 1024)
	sub, err := c.nc.ChanSubscribe(c.subj.Event(typ), ch)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	for {
		select {
		case m := <-ch:
			var ev Event
			if json.Unmarshal(m.Data, &ev) == nil {
				f(ev)
			}
		case <-ctx.Done():
			return nil
		}
	}
}
