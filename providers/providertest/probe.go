package providertest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/providers"
)

// Quiet is a logger that drops everything, for providers under test.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Probe is a real host running copies of the probe actor
// (testdata/probe.wat), assembled from source and signed. Host calls its actors make pass the real
// capability gate, with the links a test puts here, and go to the providers
// a test adds. It stands in for the lattice in provider tests: providers
// deliver to its actors with Invoke.
type Probe struct {
	Host   *host.Host
	signer *testkit.Signer

	mu    sync.RWMutex
	links map[string]spore.Link
	provs map[string]providers.Provider
}

// NewProbe starts a host for probe actors. It is closed when the test ends.
func NewProbe(t testing.TB) *Probe {
	t.Helper()
	pr := &Probe{signer: testkit.NewSigner(t), links: map[string]spore.Link{}, provs: map[string]providers.Provider{}}
	cfg := host.NewConfig().WithLogger(Quiet).
		WithLinks(host.LinkSourceFunc(pr.link)).
		WithRouter(host.RouterFunc(pr.route))
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	pr.Host = h
	return pr
}

// Load starts a probe actor named name with the claims caps and returns it.
// Each call makes a new actor identity.
func (pr *Probe) Load(t testing.TB, name string, caps ...string) *host.Actor {
	t.Helper()
	module := pr.signer.Sign(t, testkit.WAT(t, "providers/providertest/testdata/probe.wat"), name, caps...)
	a, err := pr.Host.Load(context.Background(), module, host.Limits{MaxInstances: 4})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Invoke is a providers.Invoker that calls this host's actors.
func (pr *Probe) Invoke(ctx context.Context, actorID, op string, payload []byte) ([]byte, error) {
	return pr.Host.Invoke(ctx, actorID, op, payload)
}

// Env returns an Env whose Invoke reaches the probe actors.
func (pr *Probe) Env() providers.Env {
	return providers.Env{Log: Quiet, Lattice: "test", Invoke: pr.Invoke}
}

// Serve makes calls to p's contract go to p.
func (pr *Probe) Serve(p providers.Provider) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.provs[p.Name()] = p
}

// PutLink lets the gate see l. It does not give the link to a provider.
func (pr *Probe) PutLink(l spore.Link) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.links[l.Key()] = l
}

// DeleteLink hides l from the gate.
func (pr *Probe) DeleteLink(l spore.Link) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	delete(pr.links, l.Key())
}

func (pr *Probe) link(actorID, contract, linkName string) (spore.Link, bool) {
	pr.mu.RLock()
	defer pr.mu.RUnlock()
	l, ok := pr.links[spore.Link{ActorID: actorID, Contract: contract, LinkName: linkName}.Key()]
	return l, ok
}

func (pr *Probe) route(ctx context.Context, call *host.Call) ([]byte, error) {
	if call.Link == nil {
		return nil, nil // logging: dropped
	}
	pr.mu.RLock()
	p := pr.provs[call.Link.Provider]
	pr.mu.RUnlock()
	if p == nil {
		return nil, spore.Errorf(spore.CodeUnavailable, "probe host: provider %q is not running", call.Link.Provider)
	}
	return p.Handle(ctx, &providers.Request{
		ActorID: call.Actor.ID(), ActorName: call.Actor.Claims().Name, Link: *call.Link,
		Operation: call.Operation, Payload: call.Payload,
	})
}

// HostCall has actor a make a host call, as its guest code would, and
// returns the response or the host's error.
func (pr *Probe) HostCall(ctx context.Context, a *host.Actor, binding, namespace, op string, payload []byte) ([]byte, error) {
	var in []byte
	for _, s := range []string{binding, namespace, op} {
		in = append(append(in, byte(len(s))), s...)
	}
	return a.Invoke(ctx, "HostCall", append(in, payload...))
}

// Bodies that make the probe actor fail, spin, or show the request it got,
// when they end a request's or a message's body.
var (
	Fail    = []byte("FAIL")
	Loop    = []byte("LOOP")
	Reflect = []byte{0xff, 0xff, 0xff, 0xff}
)

// Answer returns a body that makes the probe actor answer with resp, byte
// for byte.
func Answer(resp []byte) []byte {
	n := len(resp)
	return append(append([]byte(nil), resp...), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AnswerHTTP returns an HTTP body that makes the probe actor answer with r.
func AnswerHTTP(r *spore.HTTPResponse) []byte {
	b, err := msgpack.Marshal(r)
	if err != nil {
		panic(err)
	}
	return Answer(b)
}
