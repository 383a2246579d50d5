// Package logging is the spore:logging provider: Logging.Write from an actor
// becomes a record in the host's structured log, tagged with the actor. It
// needs the claim and no link.
package logging

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
)

// Name is the provider's registered name.
const Name = "logging"

func init() { providers.Register(Name, func() providers.Provider { return &Provider{} }) }

// Provider writes actors' log entries to the host log.
type Provider struct {
	log *slog.Logger
}

// Interface guards
var _ providers.Provider = (*Provider)(nil)

// Name implements providers.Provider.
func (*Provider) Name() string { return Name }

// Contract implements providers.Provider.
func (*Provider) Contract() string { return spore.ContractLogging }

// Start implements providers.Provider.
func (p *Provider) Start(_ context.Context, env providers.Env) error {
	p.log = env.Log
	if p.log == nil {
		p.log = slog.Default()
	}
	return nil
}

// PutLink implements providers.Provider. Logging needs no link; one is
// accepted and ignored.
func (*Provider) PutLink(context.Context, spore.Link) error { return nil }

// DeleteLink implements providers.Provider.
func (*Provider) DeleteLink(context.Context, spore.Link) error { return nil }

// Handle implements providers.Provider.
func (p *Provider) Handle(ctx context.Context, req *providers.Request) ([]byte, error) {
	if req.Operation != spore.OpLoggingWrite {
		return nil, providers.UnknownOperation(p, req.Operation)
	}
	if p.log == nil {
		return nil, fmt.Errorf("logging: %w", providers.ErrNotStarted)
	}
	var e spore.LogEntry
	if err := msgpack.Unmarshal(req.Payload, &e); err != nil {
		return nil, spore.Errorf(spore.CodeBadRequest, "logging: %s payload: %w", req.Operation, err)
	}
	p.log.Log(ctx, level(e.Level), e.Text, "actor", req.ActorName, "id", req.ActorID, "stream", "log")
	return nil, nil
}

// Stop implements providers.Provider.
func (*Provider) Stop(context.Context) error { return nil }

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
