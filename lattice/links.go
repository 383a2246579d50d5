package lattice

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/signing"
)

// linkCache mirrors the lattice's links bucket. It answers the capability
// gate (host.LinkSource) without a round trip, and applies links to the
// providers running on this host as they are put and deleted.
type linkCache struct {
	mirror[spore.Link]
	n *Node
}

// Interface guards
var _ host.LinkSource = (*linkCache)(nil)

func newLinkCache(n *Node) *linkCache {
	c := &linkCache{n: n}
	c.name = "links"
	c.decode = decodeLink
	c.onPut = n.applyLink
	c.onDelete = n.unapplyLink
	c.onBad = func(key string, err error) {
		n.log.Warn("ignoring a malformed link in the lattice state", "key", key, "err", err)
	}
	return c
}

// Link implements host.LinkSource. A link the mirror lacks is looked up
// in the store: one put a moment ago may not have reached the mirror yet,
// and a caller who just saw 'spore link put' succeed expects it to work.
func (c *linkCache) Link(actorID, contract, linkName string) (spore.Link, bool) {
	key := spore.Link{ActorID: actorID, Contract: contract, LinkName: linkName}.Key()
	if l, ok := c.get(key); ok {
		return l, true
	}
	ctx, cancel := context.WithTimeout(c.n.ctx, 2*time.Second)
	defer cancel()
	l, ok, err := storedLink(ctx, c.n.state, key)
	return l, ok && err == nil
}

// forProvider lists the links served by a provider name.
func (c *linkCache) forProvider(name string) []spore.Link {
	var out []spore.Link
	c.each(func(_ string, l spore.Link) {
		if l.Provider == name {
			out = append(out, l)
		}
	})
	return out
}

// claimsCache mirrors the claims bucket, so actors are named by alias or
// name without reading the bucket on every call, and indexes the ids by
// name and alias so that naming one does not scan every actor's claims.
type claimsCache struct {
	mirror[*signing.Claims]
	idxMu  sync.RWMutex
	byName map[string][]string // claims name or call alias -> ids
}

func newClaimsCache(n *Node) *claimsCache {
	c := &claimsCache{byName: map[string][]string{}}
	c.name = "claims"
	c.onPut = func(_ context.Context, cl *signing.Claims) { c.indexName(cl) }
	c.decode = func(key string, v []byte) (*signing.Claims, error) {
		cl, err := signing.DecodeToken(string(v))
		if err == nil && cl.ID != key {
			err = fmt.Errorf("claims for %s stored under %s", cl.ID, key)
		}
		return cl, err
	}
	c.onBad = func(key string, err error) {
		n.log.Warn("ignoring bad claims in the lattice state", "key", key, "err", err)
	}
	return c
}

// indexName adds the claims' id under its name and alias. An entry is never
// removed: resolve checks each against the claims it finds, which drops ids
// whose claims were deleted or renamed, and names are few.
func (c *claimsCache) indexName(cl *signing.Claims) {
	c.idxMu.Lock()
	defer c.idxMu.Unlock()
	for _, ref := range []string{cl.Name, cl.CallAlias} {
		if ref != "" && !slices.Contains(c.byName[ref], cl.ID) {
			c.byName[ref] = append(c.byName[ref], cl.ID)
		}
	}
}

// resolve turns an id, call alias or claims name into an actor id.
func (c *claimsCache) resolve(ref string) (string, error) {
	if signing.IsActorID(ref) {
		return ref, nil
	}
	c.idxMu.RLock()
	ids := c.byName[ref]
	c.idxMu.RUnlock()
	var one [1]string
	match := one[:0]
	for _, id := range ids {
		if cl, ok := c.get(id); ok && (cl.CallAlias == ref || cl.Name == ref) {
			match = append(match, id)
		}
	}
	return pickActor(ref, match)
}

// pickActor turns the ids a name matched into one id or a clear error.
func pickActor(ref string, match []string) (string, error) {
	switch len(match) {
	case 0:
		return "", spore.Errorf(spore.CodeNotFound, "lattice: no actor named %q has run in this lattice", ref)
	case 1:
		return match[0], nil
	}
	return "", spore.Errorf(spore.CodeBadRequest, "lattice: %q names %d actors (%s); use an id", ref, len(match), strings.Join(match, ", "))
}

// applyLink gives a link to the local provider it names, if one runs here.
func (n *Node) applyLink(ctx context.Context, l spore.Link) {
	p := n.provs.Get(l.Provider)
	if p == nil {
		return
	}
	if err := p.PutLink(ctx, l); err != nil {
		n.log.Warn("provider refused a link", "link", l.String(), "err", err)
		n.event(EvtLinkFailed, map[string]any{"link": l, "host_id": n.id, "reason": err.Error()})
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
