package lattice

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/signing"
)

// This file holds client-side queries the CLI builds on: they combine the
// control interface's answers (ping, inventory) and the lattice state, and
// add nothing to the protocol.

// ConnectControl joins a lattice for its control interface only: ping,
// inventory, auctions, starting and stopping on a host, labels, stopping a
// host. It opens no lattice state and needs no cluster key, so it works where
// JetStream is out of reach, such as on a leaf host whose link to its hub is
// down. State returns nil on such a client: use Connect for Call, Push,
// Links and anything else that reads the lattice state.
func ConnectControl(o ClientOptions) (*Client, error) {
	if o.Lattice == "" {
		o.Lattice = "default"
	}
	if err := CheckLatticeID(o.Lattice); err != nil {
		return nil, err
	}
	nc, err := nats.Connect(o.URL, nats.Name(o.Name), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, spore.Errorf(spore.CodeUnavailable, "lattice: connect %s: %v (is a host up? start one with 'spore up')", o.URL, err)
	}
	return &Client{nc: nc, ownConn: true, subj: Subjects{o.Lattice}, Wait: time.Second}, nil
}

// Inventories pings the lattice and asks every host that answers for its
// inventory, with each actor's counters, concurrently. A host that answers
// the ping but not the inventory (it stopped in between) is left out.
func (c *Client) Inventories(ctx context.Context) ([]HostInfo, error) {
	hosts, err := c.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*HostInfo, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if inv, err := c.Inventory(ctx, h.ID); err == nil {
				out[i] = inv
			}
		}()
	}
	wg.Wait()
	var list []HostInfo
	for _, h := range out {
		if h != nil {
			list = append(list, *h)
		}
	}
	return list, ctx.Err()
}

// ResolveHost finds the one host whose id is ref or starts with it.
func (c *Client) ResolveHost(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", spore.Errorf(spore.CodeBadRequest, "lattice: empty host id")
	}
	hosts, err := c.Hosts(ctx)
	if err != nil {
		return "", err
	}
	return matchHost(hosts, ref, c.subj.L)
}

func matchHost(hosts []HostInfo, ref, lattice string) (string, error) {
	var match []string
	for _, h := range hosts {
		if h.ID == ref {
			return h.ID, nil
		}
		if strings.HasPrefix(h.ID, ref) {
			match = append(match, h.ID)
		}
	}
	switch len(match) {
	case 0:
		return "", spore.Errorf(spore.CodeNotFound, "lattice: no host %q answers in lattice %q (see 'spore host ls')", ref, lattice)
	case 1:
		return match[0], nil
	}
	return "", spore.Errorf(spore.CodeBadRequest, "lattice: %q is the start of %d host ids; give more of it", ref, len(match))
}

// HostsRunningActor returns the hosts that run an actor (by id).
func HostsRunningActor(hosts []HostInfo, actorID string) []HostInfo {
	return hostsWhere(hosts, func(h HostInfo) bool {
		return slices.ContainsFunc(h.Actors, func(a ActorInfo) bool { return a.ID == actorID })
	})
}

// HostsRunningProvider returns the hosts that run a provider (by name).
func HostsRunningProvider(hosts []HostInfo, name string) []HostInfo {
	return hostsWhere(hosts, func(h HostInfo) bool {
		return slices.ContainsFunc(h.Providers, func(p ProviderInfo) bool { return p.Name == name })
	})
}

func hostsWhere(hosts []HostInfo, keep func(HostInfo) bool) []HostInfo {
	var out []HostInfo
	for _, h := range hosts {
		if keep(h) {
			out = append(out, h)
		}
	}
	return out
}

// PushActor stores a signed module in the artifact store, like Push, and
// records its claims in the lattice state, so the actor can be named (by
// name or call alias) in links before it first starts.
func (c *Client) PushActor(ctx context.Context, module []byte, progress func(sent, total int)) (*Artifact, *signing.Claims, error) {
	a, err := c.Push(ctx, module, progress)
	if err != nil {
		return nil, nil, err
	}
	// Push verified the module; this only decodes the claims again.
	claims, err := signing.Verify(module, signing.VerifyOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("lattice: push: %w", err)
	}
	if err := c.state.PutClaims(ctx, claims); err != nil {
		return nil, nil, fmt.Errorf("lattice: push: record claims: %w", err)
	}
	return a, claims, nil
}

// ActorNames maps actor ids to their claims names, for display.
func (c *Client) ActorNames(ctx context.Context) map[string]string {
	out := map[string]string{}
	if c.state == nil {
		return out
	}
	all, err := c.state.ListClaims(ctx)
	if err != nil {
		return out
	}
	for _, cl := range all {
		out[cl.ID] = cl.Name
	}
	return out
}

// EventWatch is a live subscription to a lattice's events, made by
// WatchEvents. Next returns them in order.
type EventWatch struct {
	sub *nats.Subscription
	ch  chan *nats.Msg
}

// WatchEvents subscribes to every event of the lattice. When it returns,
// the server has the subscription: no event published after that is missed.
func (c *Client) WatchEvents() (*EventWatch, error) {
	w := &EventWatch{ch: make(chan *nats.Msg, 4096)}
	var err error
	if w.sub, err = c.nc.ChanSubscribe(c.subj.Event(">"), w.ch); err != nil {
		return nil, fmt.Errorf("lattice: watch events: %w", err)
	}
	if err := c.nc.Flush(); err != nil {
		_ = w.sub.Unsubscribe()
		return nil, fmt.Errorf("lattice: watch events: %w", err)
	}
	return w, nil
}

// Next waits for the next well-formed event, until ctx ends.
func (w *EventWatch) Next(ctx context.Context) (Event, error) {
	for {
		select {
		case m := <-w.ch:
			var ev Event
			if json.Unmarshal(m.Data, &ev) == nil && ev.Type != "" {
				return ev, nil
			}
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// Close ends the subscription. It is safe to call more than once.
func (w *EventWatch) Close() { _ = w.sub.Unsubscribe() }

// ShortType is an event's type without EventTypePrefix: "actor_started".
func (e Event) ShortType() string { return strings.TrimPrefix(e.Type, EventTypePrefix) }

// SortedLabels renders labels as "k=v" pairs in key order.
func SortedLabels(m map[string]string) []string {
	keys := sortedKeys(m)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return out
}
