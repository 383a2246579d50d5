package logging_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/providers/logging"
	"github.com/spore-run/spore/providers/providertest"
)

func TestConformance(t *testing.T) {
	entry, _ := msgpack.Marshal(&spore.LogEntry{Level: "info", Text: "hi"})
	providertest.Run(t, providertest.Suite{
		New: func() providers.Provider { return &logging.Provider{} },
		Env: func(*testing.T) providers.Env { return providers.Env{Log: providertest.Quiet} },
		Link: func(_ *testing.T, id string) spore.Link {
			return spore.Link{ActorID: id, Contract: spore.ContractLogging, Provider: logging.Name}
		},
		Actors:   []string{"actor-one", "actor-two"},
		Unlinked: true,
		InEffect: func(_ *testing.T, p providers.Provider, l spore.Link) error {
			_, err := p.Handle(context.Background(), &providers.Request{ActorID: l.ActorID, Operation: spore.OpLoggingWrite, Payload: entry})
			return err
		},
		Operations: []string{spore.OpLoggingWrite},
	})
}

func TestEntriesAreTagged(t *testing.T) {
	var buf testkit.Buffer
	p := &logging.Provider{}
	if err := p.Start(context.Background(), providers.Env{Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	for _, lvl := range []string{"debug", "info", "warn", "error", "nonsense"} {
		b, _ := msgpack.Marshal(&spore.LogEntry{Level: lvl, Text: "from " + lvl})
		if _, err := p.Handle(context.Background(), &providers.Request{ActorID: "MID", ActorName: "hello", Operation: spore.OpLoggingWrite, Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	for _, want := range []string{"level=DEBUG msg=\"from debug\" actor=hello id=MID stream=log", "level=WARN", "level=ERROR", "level=INFO msg=\"from nonsense\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
