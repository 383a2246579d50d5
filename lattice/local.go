package lattice

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/providers"
)

// LocalProviders is the set of providers started in this process. It routes
// host calls to them by the link's provider name, or by contract for the
// contracts that need no link.
type LocalProviders struct {
	mu     sync.RWMutex
	byName map[string]providers.Provider
}

// Interface guards
var _ host.Router = (*LocalProviders)(nil)

// NewLocalProviders returns an empty set.
func NewLocalProviders() *LocalProviders {
	return &LocalProviders{byName: map[string]providers.Provider{}}
}

// Start makes, starts and adds the named provider. Starting one already
// running returns it.
func (lp *LocalProviders) Start(ctx context.Context, name string, env providers.Env) (providers.Provider, error) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if p := lp.byName[name]; p != nil {
		return p, nil
	}
	p, err := providers.New(name)
	if err != nil {
		return nil, err
	}
	if err := p.Start(ctx, env); err != nil {
		p.Stop(ctx)
		return nil, fmt.Errorf("provider %s: start: %w", name, err)
	}
	lp.byName[name] = p
	return p, nil
}

// Get returns the running provider of that name, or nil.
func (lp *LocalProviders) Get(name string) providers.Provider {
	lp.mu.RLock()
	defer lp.mu.RUnlock()
	return lp.byName[name]
}

// Names lists the running providers.
func (lp *LocalProviders) Names() []string {
	lp.mu.RLock()
	defer lp.mu.RUnlock()
	out := make([]string, 0, len(lp.byName))
	for n := range lp.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Stop stops and removes one provider.
func (lp *LocalProviders) Stop(ctx context.Context, name string) error {
	lp.mu.Lock()
	p := lp.byName[name]
	delete(lp.byName, name)
	lp.mu.Unlock()
	if p == nil {
		return spore.Errorf(spore.CodeNotFound, "provider %q is not running here", name)
	}
	return p.Stop(ctx)
}

// StopAll stops every provider.
func (lp *LocalProviders) StopAll(ctx context.Context) {
	for _, n := range lp.Names() {
		lp.Stop(ctx, n)
	}
}

// forCall finds the provider a host call goes to, or nil.
func (lp *LocalProviders) forCall(call *host.Call) providers.Provider {
	lp.mu.RLock()
	defer lp.mu.RUnlock()
	if call.Link != nil {
		return lp.byName[call.Link.Provider]
	}
	for _, p := range lp.byName {
		if p.Contract() == call.Namespace {
			return p
		}
	}
	return nil
}

// Route implements host.Router for calls this process's providers serve.
func (lp *LocalProviders) Route(ctx context.Context, call *host.Call) ([]byte, error) {
	p := lp.forCall(call)
	if p == nil {
		if call.Link != nil {
			return nil, spore.Errorf(spore.CodeUnavailable, "%s: provider %q for %s is not running", call.Actor, call.Link.Provider, call.Namespace)
		}
		return nil, spore.Errorf(spore.CodeUnavailable, "%s: no provider of %s runs here", call.Actor, call.Namespace)
	}
	return p.Handle(ctx, RequestOf(call))
}

// RequestOf turns an allowed host call into a provider request.
func RequestOf(call *host.Call) *providers.Request {
	req := &providers.Request{
		ActorID:   call.Actor.ID(),
		ActorName: call.Actor.Claims().Name,
		Operation: call.Operation,
		Payload:   call.Payload,
	}
	if call.Link != nil {
		req.Link = *call.Link
	}
	return req
}
