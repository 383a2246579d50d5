package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/spore-run/spore"
)

// Provider implements one contract natively. See the package doc for the
// lifecycle.
type Provider interface {
	// Name is the provider's name as links and the CLI use it.
	Name() string
	// Contract is the contract id the provider serves.
	Contract() string
	Start(ctx context.Context, env Env) error
	PutLink(ctx context.Context, link spore.Link) error
	DeleteLink(ctx context.Context, link spore.Link) error
	Handle(ctx context.Context, req *Request) ([]byte, error)
	Stop(ctx context.Context) error
}

// Request is one call from an actor to a provider.
type Request struct {
	ActorID   string
	ActorName string
	// Link is the link the gate found for the call.
	Link      spore.Link
	Operation string
	Payload   []byte
}

// Invoker calls an operation on an actor, wherever in the lattice it runs.
type Invoker func(ctx context.Context, actorID, operation string, payload []byte) ([]byte, error)

// Env is what a provider may use.
type Env struct {
	Log *slog.Logger
	// NATS is the lattice's connection; nil when there is no lattice (spore
	// run).
	NATS *nats.Conn
	// Lattice is the lattice id.
	Lattice string
	// DataDir is a directory the provider may keep files in.
	DataDir string
	// Invoke calls actors, for providers that deliver to them.
	Invoke Invoker
}

// Sentinel errors.
var (
	// ErrUnknown means no provider is registered under the name.
	ErrUnknown = errors.New("unknown provider")
	// ErrBadLink means a link's values are invalid for the provider.
	ErrBadLink = errors.New("bad link")
	// ErrNoLink means the actor has no link to this provider.
	ErrNoLink = errors.New("no link")
	// ErrOperation means the provider does not implement the operation.
	ErrOperation = errors.New("unknown operation")
	// ErrNotStarted means Handle or PutLink came before Start.
	ErrNotStarted = errors.New("provider not started")
)

var (
	mu       sync.RWMutex
	registry = map[string]func() Provider{}
)

// Register makes a provider available by name. It panics if the name is
// taken, as database/sql.Register does.
func Register(name string, factory func() Provider) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("providers: Register called twice for " + name)
	}
	registry[name] = factory
}

// New returns a new, unstarted provider of that name.
func New(name string) (Provider, error) {
	mu.RLock()
	f := registry[name]
	mu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("providers: %q (known: %v): %w", name, Names(), ErrUnknown)
	}
	return f(), nil
}

// Names lists the registered providers.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// UnknownOperation is the error for an operation a provider lacks.
func UnknownOperation(p Provider, op string) error {
	return spore.Errorf(spore.CodeBadRequest, "%s: %s has no operation %q: %w", p.Name(), p.Contract(), op, ErrOperation)
}

// LinkValidator is implemented by providers that can check a link's values
// before it is stored, so a bad link is refused when it is put.
type LinkValidator interface {
	ValidateLink(link spore.Link) error
}
