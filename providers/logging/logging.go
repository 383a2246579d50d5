// Package logging is the spore:logging provider: Logging.Write from an actor
// becomes a record in the host's structured log, tagged with the actor. It
// needs the claim and no link.
package logging

import (
	"context"
	"log/slog"
	"sync"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
)

// Name is the provider's registered name.
const Name = "logging"

func init() { providers.Register(Name, func() providers.Provider { return &Provider{} }) }

// Provider writes actors' log entries to the host log.
type Provider struct {
	mu    sync.RWMutex
	state providers.State
	log   *slog.Logger
}

// Interface guards
var (
	_ providers.Provider      = (*Provider)(nil)
	_ providers.LinkValidator = (*Provider)(nil)
)

// Name implements providers.Provider.
func (*Provider) Name() string { return Name }

// Contract implements providers.Provider.
func (*Provider) Contract() string { return spore.ContractLogging }

// Start implements providers.Provider.
func (p *Provider) Start(_ context.Context, env providers.Env) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.state.Start(p); err != nil {
		return err
	}
	p.log = env.Log
	if p.log == nil {
		p.log = slog.Default()
	}
	return nil
}

// ValidateLink implements providers.LinkValidator. Logging needs no link;
// one is accepted with any values, which change nothing.
func (*Provider) ValidateLink(spore.Link) error { return nil }

// PutLink implements providers.Provider. A link changes nothing.
func (p *Provider) PutLink(_ context.Context, l spore.Link) error {
	if err := p.ValidateLink(l); err != nil {
		return err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.state.Check(p)
}

// DeleteLink implements providers.Provider.
func (*Provider) DeleteLink(context.Context, spore.Link) error { return nil }

// Handle implements providers.Provider.
func (p *Provider) Handle(ctx context.Context, req *providers.Request) ([]byte, error) {
	if req.Operation != spore.OpLoggingWrite {
		return nil, providers.UnknownOperation(p, req.Operation)
	}
	p.mu.RLock()
	err, log := p.state.Check(p), p.log
	p.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	var e spore.LogEntry
	if err := providers.Decode(p, req.Operation, req.Payload, &e); err != nil {
		return nil, err
	}
	log.Log(ctx, level(e.Level), e.Text, "actor", req.ActorName, "id", req.ActorID, "stream", "log")
	return nil, nil
}

// Stop implements providers.Provider.
func (p *Provider) Stop(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.Stop()
	return nil
}

func level(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
