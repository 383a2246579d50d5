package lattice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
)

// A provider runs on a runner: a host that started it in process, or a
// provider process (spore provider run, supervised by a host or not). Every
// runner of a provider applies all of that provider's links, serves its RPC
// subject in one queue group, and keeps an entry in the providers registry,
// a KV bucket whose entries expire unless refreshed, so a runner that dies
// drops out by itself.
//
// Putting a link asks every runner of its provider to apply it first
// (link.check, on the runner's own control subject), and stores it only when
// they all could: a port in use or an ambiguous route is refused when the
// link is put, with the runner's reason. When one runner refuses, the others
// go back to what the store says (link.sync). A runner whose provider starts
// later applies the links already stored, and reports a failure as a
// link_failed event and in its log.

// Control operations and events of provider runners.
const (
	// OpLinkSync asks a runner to apply a link as the store holds it (or
	// delete it when the store has none).
	OpLinkSync = "link.sync"
	// EvtLinkFailed reports a stored link a runner could not apply.
	EvtLinkFailed = "link_failed"
)

const (
	bucketProviders = "providers" // "<provider>.<runner id>" -> ProviderInfo (JSON), expiring
	// providerTTL is how long a runner's registry entry lives without a
	// refresh; runners refresh every DefaultHeartbeat.
	providerTTL = 5 * DefaultHeartbeat
	// linkCheckTimeout bounds one runner's answer to link.check.
	linkCheckTimeout = 15 * time.Second
)

// openProviderRegistry opens (creating when missing) the registry of
// provider runners.
func openProviderRegistry(ctx context.Context, js jetstream.JetStream, lattice string) (jetstream.KeyValue, error) {
	return openRegistry(ctx, js, lattice, bucketProviders, "where providers run", providerTTL)
}

func registryKey(provider, runnerID string) string { return provider + "." + runnerID }

// register records (or refreshes) that a provider runs on a runner.
func register(ctx context.Context, kv jetstream.KeyValue, pi ProviderInfo) error {
	b, _ := json.Marshal(pi)
	_, err := kv.Put(ctx, registryKey(pi.Name, pi.HostID), b)
	return err
}

func unregister(ctx context.Context, kv jetstream.KeyValue, provider, runnerID string) {
	_ = kv.Delete(ctx, registryKey(provider, runnerID))
}

// runnersOf lists the runners of a provider ("" for every provider).
func runnersOf(ctx context.Context, kv jetstream.KeyValue, provider string) ([]ProviderInfo, error) {
	filter := ">"
	if provider != "" {
		filter = provider + ".*"
	}
	w, err := kv.WatchFiltered(ctx, []string{filter}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	var out []ProviderInfo
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				sort.Slice(out, func(i, j int) bool {
					return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].HostID < out[j].HostID
				})
				return out, nil
			}
			var pi ProviderInfo
			if json.Unmarshal(e.Value(), &pi) == nil {
				out = append(out, pi)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Providers lists where providers run in the lattice: hosts that run them
// in process and provider processes (their HostID is the process's id and
// their annotations say "process"). Unlike the hosts' inventories, it sees
// provider processes started by hand.
func (c *Client) Providers(ctx context.Context) ([]ProviderInfo, error) {
	if err := c.needState(); err != nil {
		return nil, err
	}
	kv, err := openProviderRegistry(ctx, c.state.js, c.subj.L)
	if err != nil {
		return nil, err
	}
	return runnersOf(ctx, kv, "")
}

// applyAcrossRunners asks every runner of the link's provider to apply it.
// When one refuses, those that applied it go back to the store, and the
// first refusal is returned, naming the runner.
func applyAcrossRunners(ctx context.Context, nc *nats.Conn, subj Subjects, kv jetstream.KeyValue, l spore.Link) error {
	runners, err := runnersOf(ctx, kv, l.Provider)
	if err != nil {
		return spore.Errorf(spore.CodeUnavailable, "lattice: link: find where provider %s runs: %v", l.Provider, err)
	}
	errs := onRunners(ctx, nc, subj, runners, OpLinkCheck, l, linkCheckTimeout)
	var refused error
	var applied []ProviderInfo
	for i, err := range errs {
		switch {
		case err == nil:
			applied = append(applied, runners[i])
		case errors.Is(err, nats.ErrNoResponders):
			// gone since its last refresh
		case refused == nil:
			code := spore.CodeOf(err)
			if code == spore.CodeInternal {
				code = spore.CodeBadRequest
			}
			refused = spore.Errorf(code, "lattice: link refused by provider %s on %s: %s",
				l.Provider, describeRunner(runners[i]), strings.TrimSpace(err.Error()))
		}
	}
	if refused != nil {
		onRunners(ctx, nc, subj, applied, OpLinkSync, l, 5*time.Second)
	}
	return refused
}

// syncRunners asks every runner of the link's provider to apply what the
// store holds for it, so a deleted link ends before the caller hears back.
func syncRunners(ctx context.Context, nc *nats.Conn, subj Subjects, kv jetstream.KeyValue, l spore.Link) {
	if runners, err := runnersOf(ctx, kv, l.Provider); err == nil {
		onRunners(ctx, nc, subj, runners, OpLinkSync, l, 5*time.Second)
	}
}

// onRunners sends op with the link to every runner at once and returns
// each one's outcome, in order.
func onRunners(ctx context.Context, nc *nats.Conn, subj Subjects, runners []ProviderInfo, op string, l spore.Link, timeout time.Duration) []error {
	errs := make([]error, len(runners))
	var wg sync.WaitGroup
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runnerOp(ctx, nc, subj.HostCtl(r.HostID, op), l, timeout)
		}()
	}
	wg.Wait()
	return errs
}

func describeRunner(pi ProviderInfo) string {
	id := pi.HostID
	if len(id) > 8 {
		id = id[:8]
	}
	if pi.Annotations["process"] != "" {
		return "provider process " + id
	}
	return "host " + id
}

// runnerOp sends a link to one runner's control subject and waits for its
// Reply. No runner there is nats.ErrNoResponders.
func runnerOp(ctx context.Context, nc *nats.Conn, subject string, l spore.Link, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	b, _ := json.Marshal(l)
	m, err := nc.RequestWithContext(ctx, subject, b)
	if err != nil {
		return err
	}
	return decodeReply(m.Data, nil)
}

// runnerLinkOp runs link.check or link.sync on this runner's provider p.
// link.check applies the link; link.sync applies what the store holds.
func runnerLinkOp(ctx context.Context, st *State, p providers.Provider, op string, data []byte) error {
	var l spore.Link
	if err := decode(data, &l); err != nil {
		return err
	}
	if p == nil {
		return spore.Errorf(spore.CodeNotFound, "lattice: provider %q does not run here", l.Provider)
	}
	if op == OpLinkCheck {
		return p.PutLink(ctx, l)
	}
	stored, ok, err := storedLink(ctx, st, l.Key())
	switch {
	case err != nil:
		return err
	case !ok || stored.Provider != p.Name():
		return p.DeleteLink(ctx, l)
	}
	return p.PutLink(ctx, stored)
}

// storedLink reads one link from the store.
func storedLink(ctx context.Context, st *State, key string) (spore.Link, bool, error) {
	var l spore.Link
	e, err := st.Links.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("lattice: read link %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), &l); err != nil {
		return l, false, fmt.Errorf("lattice: stored link %s: %w", key, err)
	}
	return l, true, nil
}

// handleProviderCall serves one invocation to provider p. When the provider
// does not hold the invocation's link yet (this runner's copy of the store
// lags the caller's by a moment), the link is read from the store, applied
// and the call retried once.
func handleProviderCall(ctx context.Context, st *State, p providers.Provider, inv *Invocation) ([]byte, error) {
	if inv.Link == nil {
		return nil, spore.Errorf(spore.CodeBadRequest, "lattice: provider invocation without a link")
	}
	req := &providers.Request{
		ActorID: inv.Origin, ActorName: inv.OriginName, Link: *inv.Link,
		Operation: inv.Operation, Payload: inv.Payload,
	}
	out, err := p.Handle(ctx, req)
	if !errors.Is(err, providers.ErrNoLink) {
		return out, err
	}
	stored, ok, serr := storedLink(ctx, st, inv.Link.Key())
	if serr != nil || !ok || stored.Provider != p.Name() || stored.ActorID != inv.Origin {
		return out, err
	}
	if perr := p.PutLink(ctx, stored); perr != nil {
		return nil, perr
	}
	req.Link = stored
	return p.Handle(ctx, req)
}

// noClaim is the error for delivering to an actor whose claims lack the
// contract of the provider that delivers.
func noClaim(actor, contract string) error {
	return spore.Errorf(spore.CodeDenied, "%s has no claim for %s: sign it with --cap %s", actor, contract, contract)
}

// providerOrigin is the Origin of invocations a provider makes to actors.
func providerOrigin(provider, runnerID string) string { return "provider:" + provider + "@" + runnerID }

// deliveryLink marks an invocation to an actor as coming from a provider of
// a contract, so the actor's host checks the actor's claims.
func deliveryLink(actorID, contract, provider string) *spore.Link {
	return &spore.Link{ActorID: actorID, Contract: contract, Provider: provider}
}
