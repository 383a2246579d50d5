package lattice

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
)

// linkCache mirrors the lattice's links bucket in memory. It answers the
// capability gate (host.LinkSource) without a round trip, and applies links
// to the providers running on this host as they are put and deleted.
type linkCache struct {
	node *Node

	mu    sync.RWMutex
	links map[string]spore.Link // by Link.Key()

	watcher jetstream.KeyWatcher
	wg      sync.WaitGroup
}

// Interface guards
var _ host.LinkSource = (*linkCache)(nil)

func newLinkCache(n *Node) *linkCache {
	return &linkCache{node: n, links: map[string]spore.Link{}}
}

// start loads every link and keeps watching for changes.
func (c *linkCache) start(ctx context.Context) error {
	w, err := c.node.state.Links.WatchAll(c.node.ctx)
	if err != nil {
		return fmt.Errorf("lattice: watch links: %w", err)
	}
	c.watcher = w
	// The initial values end with a nil entry; wait for it so the gate
	// knows every link before the first actor starts.
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				c.wg.Add(1)
				go c.follow()
				return nil
			}
			c.apply(ctx, e)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *linkCache) follow() {
	defer c.wg.Done()
	for e := range c.watcher.Updates() {
		if e != nil {
			c.apply(c.node.ctx, e)
		}
	}
}

func (c *linkCache) stop() {
	if c.watcher != nil {
		_ = c.watcher.Stop()
	}
	c.wg.Wait()
}

func (c *linkCache) apply(ctx context.Context, e jetstream.KeyValueEntry) {
	c.mu.Lock()
	old, had := c.links[e.Key()]
	if e.Operation() != jetstream.KeyValuePut {
		delete(c.links, e.Key())
		c.mu.Unlock()
		if had {
			c.node.unapplyLink(ctx, old)
		}
		return
	}
	var l spore.Link
	if err := json.Unmarshal(e.Value(), &l); err != nil || l.Key() != e.Key() {
		c.mu.Unlock()
		c.node.log.Warn("ignoring a malformed link in the lattice state", "key", e.Key())
		return
	}
	c.links[e.Key()] = l
	c.mu.Unlock()
	c.node.applyLink(ctx, l)
}

// Link implements host.LinkSource.
func (c *linkCache) Link(actorID, contract, linkName string) (spore.Link, bool) {
	k := spore.Link{ActorID: actorID, Contract: contract, LinkName: linkName}.Key()
	c.mu.RLock()
	defer c.mu.RUnlock()
	l, ok := c.links[k]
	return l, ok
}

// forProvider lists the links served by a provider name.
func (c *linkCache) forProvider(name string) []spore.Link {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []spore.Link
	for _, l := range c.links {
		if l.Provider == name {
			out = append(out, l)
		}
	}
	return out
}

// applyLink gives a link to the local provider it names, if one runs here.
func (n *Node) applyLink(ctx context.Context, l spore.Link) {
	p := n.provs.Get(l.Provider)
	if p == nil {
		return
	}
	if err := p.PutLink(ctx, l); err != nil {
		n.log.Warn("provider refused a link", "link", l.String(), "err", err)
		return
	}
	n.log.Info("link applied", "link", l.String())
}

func (n *Node) unapplyLink(ctx context.Context, l spore.Link) {
	if p := n.provs.Get(l.Provider); p != nil {
		if err := p.DeleteLink(ctx, l); err != nil {
			n.log.Warn("provider failed to delete a link", "link", l.String(), "err", err)
		}
	}
}
