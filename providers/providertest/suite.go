// Package providertest is the conformance suite every capability provider
// passes, and the test host (Probe) that provider tests run real Wasm actors
// in.
//
// A provider's tests describe it with a Suite and call Run:
//
//	providertest.Run(t, providertest.Suite{
//		New:      func() providers.Provider { return &Provider{} },
//		Env:      func(t *testing.T) providers.Env { ... },
//		Link:     func(t *testing.T, actorID string) spore.Link { ... },
//		InEffect: func(t *testing.T, p providers.Provider, l spore.Link) error { ... },
//		...
//	})
//
// The suite checks the lifecycle of package providers (Start, PutLink,
// DeleteLink, Handle, Stop), that PutLink is idempotent, that DeleteLink and
// Stop end a link's effect, that bad link values are refused by ValidateLink
// and PutLink alike, that unknown operations are errors, and that garbage
// payloads give errors, never panics.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/providers"
)

// Suite describes a provider to the conformance tests.
type Suite struct {
	// New returns a fresh, unstarted provider.
	New func() providers.Provider
	// Env returns the Env to start a provider with. Each call may be for a
	// new provider.
	Env func(t *testing.T) providers.Env
	// Link returns a valid link for actorID, with values that work in the
	// test's environment (a free port, a reachable server). Each call for
	// the same actor must give the same link.
	Link func(t *testing.T, actorID string) spore.Link
	// InEffect returns nil when the link works through p (a request reaches
	// the actor, a value is stored), and an error saying why not otherwise.
	InEffect func(t *testing.T, p providers.Provider, l spore.Link) error
	// BadValues are link values that ValidateLink and PutLink must refuse.
	BadValues []map[string]string
	// Operations are the operations actors call on the provider, in the
	// order given; the suite sends each one garbage. Empty for providers
	// that only call actors.
	Operations []string
	// Actors are actor ids the suite links; at least two. They must be
	// actors the Env's Invoke reaches when the provider calls actors.
	Actors []string
	// Unlinked is for a contract served without a link (logging): the
	// provider works from Start to Stop, and links change nothing, so the
	// suite does not expect DeleteLink to end an effect.
	Unlinked bool
}

// Run runs the conformance suite.
func Run(t *testing.T, s Suite) {
	if len(s.Actors) < 2 {
		t.Fatal("providertest: Suite.Actors needs at least two actor ids")
	}
	t.Run("registered", func(t *testing.T) { s.registered(t) })
	t.Run("lifecycle", func(t *testing.T) { s.lifecycle(t) })
	t.Run("stop without start", func(t *testing.T) { s.stopWithoutStart(t) })
	t.Run("stop after cancelled start", func(t *testing.T) { s.stopAfterCancelledStart(t) })
	t.Run("calls before start", func(t *testing.T) { s.callsBeforeStart(t) })
	t.Run("put link is idempotent", func(t *testing.T) { s.idempotentPut(t) })
	t.Run("delete unknown link", func(t *testing.T) { s.deleteUnknown(t) })
	t.Run("bad values", func(t *testing.T) { s.badValues(t) })
	t.Run("unknown operation", func(t *testing.T) { s.unknownOperation(t) })
	t.Run("handle without link", func(t *testing.T) { s.handleWithoutLink(t) })
	t.Run("garbage payloads", func(t *testing.T) { s.garbage(t) })
	t.Run("stop ends links", func(t *testing.T) { s.stopEndsLinks(t) })
	t.Run("concurrent", func(t *testing.T) { s.concurrent(t) })
}

// start makes and starts a provider that is stopped when the test ends.
func (s Suite) start(t *testing.T) providers.Provider {
	t.Helper()
	p := s.New()
	if err := p.Start(context.Background(), s.Env(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return p
}

func (s Suite) put(t *testing.T, p providers.Provider, l spore.Link) {
	t.Helper()
	if err := p.PutLink(context.Background(), l); err != nil {
		t.Fatalf("PutLink %s: %v", l, err)
	}
}

// waitEffect polls until the link works (want true) or stops working.
func (s Suite) waitEffect(t *testing.T, p providers.Provider, l spore.Link, want bool) {
	t.Helper()
	if s.Unlinked && !want && !s.stopped(p) {
		return // without links, only Stop ends the effect
	}
	testkit.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		err := s.InEffect(t, p, l)
		switch {
		case want && err != nil:
			return fmt.Errorf("link %s not in effect: %w", l, err)
		case !want && err == nil:
			return fmt.Errorf("link %s still in effect", l)
		}
		return nil
	})
}

// stopped reports whether p refuses calls as a stopped provider does.
func (s Suite) stopped(p providers.Provider) bool {
	return errors.Is(p.PutLink(context.Background(), spore.Link{}), providers.ErrNotStarted)
}

func (s Suite) registered(t *testing.T) {
	p := s.New()
	if p.Name() == "" || !spore.IsContractID(p.Contract()) {
		t.Fatalf("Name %q, Contract %q: want a name and a contract id", p.Name(), p.Contract())
	}
	q, err := providers.New(p.Name())
	if err != nil {
		t.Fatalf("%s is not registered: %v", p.Name(), err)
	}
	if q.Name() != p.Name() || q.Contract() != p.Contract() {
		t.Fatalf("registry gives %s/%s for %s/%s", q.Name(), q.Contract(), p.Name(), p.Contract())
	}
	if _, ok := p.(providers.LinkValidator); !ok {
		t.Errorf("%s does not implement providers.LinkValidator", p.Name())
	}
}

func (s Suite) lifecycle(t *testing.T) {
	ctx := context.Background()
	p := s.New()
	if err := p.Start(ctx, s.Env(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	l := s.Link(t, s.Actors[0])
	if v, ok := p.(providers.LinkValidator); ok {
		if err := v.ValidateLink(l); err != nil {
			t.Fatalf("ValidateLink refuses the suite's good link %s: %v", l, err)
		}
	}
	s.put(t, p, l)
	s.waitEffect(t, p, l, true)
	if err := p.DeleteLink(ctx, l); err != nil {
		t.Fatalf("DeleteLink: %v", err)
	}
	s.waitEffect(t, p, l, false)
	// The link can come back after a delete.
	s.put(t, p, l)
	s.waitEffect(t, p, l, true)
	for i := range 2 {
		if err := p.Stop(ctx); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
}

func (s Suite) stopWithoutStart(t *testing.T) {
	p := s.New()
	for i := range 2 {
		if err := p.Stop(context.Background()); err != nil {
			t.Fatalf("Stop #%d of a provider never started: %v", i+1, err)
		}
	}
}

func (s Suite) stopAfterCancelledStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := s.New()
	_ = p.Start(ctx, s.Env(t)) // may fail or not; Stop must work either way
	for i := range 2 {
		if err := p.Stop(context.Background()); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
}

func (s Suite) callsBeforeStart(t *testing.T) {
	p := s.New()
	l := s.Link(t, s.Actors[0])
	if err := p.PutLink(context.Background(), l); !errors.Is(err, providers.ErrNotStarted) {
		t.Errorf("PutLink before Start: %v, want ErrNotStarted", err)
	}
	for _, op := range s.Operations {
		if _, err := p.Handle(context.Background(), &providers.Request{ActorID: s.Actors[0], Link: l, Operation: op, Payload: []byte{0xa0}}); err == nil {
			t.Errorf("Handle %s before Start succeeded", op)
		}
	}
}

func (s Suite) idempotentPut(t *testing.T) {
	p := s.start(t)
	l := s.Link(t, s.Actors[0])
	for range 3 {
		s.put(t, p, l)
	}
	s.waitEffect(t, p, l, true)
	// One delete ends it: three puts made one link.
	if err := p.DeleteLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	s.waitEffect(t, p, l, false)
}

func (s Suite) deleteUnknown(t *testing.T) {
	p := s.start(t)
	l := s.Link(t, s.Actors[1])
	for range 2 {
		if err := p.DeleteLink(context.Background(), l); err != nil {
			t.Fatalf("DeleteLink of a link never put: %v", err)
		}
	}
}

func (s Suite) badValues(t *testing.T) {
	p := s.start(t)
	v, _ := p.(providers.LinkValidator)
	for _, values := range s.BadValues {
		t.Run(fmt.Sprint(values), func(t *testing.T) {
			l := s.Link(t, s.Actors[0])
			l.Values = values
			if v != nil {
				err := v.ValidateLink(l)
				if !errors.Is(err, providers.ErrBadLink) || spore.CodeOf(err) != spore.CodeBadRequest {
					t.Errorf("ValidateLink: %v, want ErrBadLink with code bad_request", err)
				}
			}
			err := p.PutLink(context.Background(), l)
			if err == nil {
				t.Fatalf("PutLink accepted bad values %v", values)
			}
			if !strings.Contains(err.Error(), p.Name()) {
				t.Errorf("error %q does not name the provider", err)
			}
		})
	}
}

func (s Suite) unknownOperation(t *testing.T) {
	p := s.start(t)
	l := s.Link(t, s.Actors[0])
	s.put(t, p, l)
	_, err := p.Handle(context.Background(), &providers.Request{ActorID: s.Actors[0], Link: l, Operation: "No.Such", Payload: []byte{0xa0}})
	if !errors.Is(err, providers.ErrOperation) || spore.CodeOf(err) != spore.CodeBadRequest {
		t.Fatalf("unknown operation: %v, want ErrOperation with code bad_request", err)
	}
	if !strings.Contains(err.Error(), "No.Such") {
		t.Errorf("error %q does not name the operation", err)
	}
}

func (s Suite) handleWithoutLink(t *testing.T) {
	if len(s.Operations) == 0 || s.Unlinked {
		t.Skip("the provider has no operations actors call through a link")
	}
	p := s.start(t)
	l := s.Link(t, s.Actors[1]) // never put
	for _, op := range s.Operations {
		_, err := p.Handle(context.Background(), &providers.Request{ActorID: s.Actors[1], Link: l, Operation: op, Payload: []byte{0xa1, 'k'}})
		if !errors.Is(err, providers.ErrNoLink) {
			t.Errorf("%s without a link: %v, want ErrNoLink", op, err)
		}
	}
}

// garbagePayloads are inputs no operation can take whole.
var garbagePayloads = [][]byte{
	nil,
	{},
	{0xc1},                   // never used in MessagePack
	[]byte("garbage"),        // 'g' is a positive fixint, then junk
	{0xdf, 0xff, 0xff, 0xff}, // a map claiming 4 billion entries
	{0xdb, 0xff, 0xff, 0xff, 0xff},
	[]byte(strings.Repeat("\x91", 10000)), // arrays nested 10000 deep
}

func (s Suite) garbage(t *testing.T) {
	if len(s.Operations) == 0 {
		t.Skip("the provider has no operations actors call")
	}
	p := s.start(t)
	l := s.Link(t, s.Actors[0])
	s.put(t, p, l)
	wrongType, _ := msgpack.Marshal(map[string]any{"key": 7, "value": "x", "subject": []int{1}, "url": 3, "delta": "1", "level": 5, "text": []int{1}})
	payloads := append(garbagePayloads, wrongType)
	for _, op := range s.Operations {
		for i, payload := range payloads {
			t.Run(fmt.Sprintf("%s/%d", op, i), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_, err := p.Handle(ctx, &providers.Request{ActorID: s.Actors[0], Link: l, Operation: op, Payload: payload})
				if err == nil {
					t.Fatalf("%s took garbage %q", op, payload)
				}
				if c := spore.CodeOf(err); c != spore.CodeBadRequest {
					t.Errorf("%s garbage: code %s (%v), want bad_request", op, c, err)
				}
			})
		}
	}
	// The provider still works.
	s.waitEffect(t, p, l, true)
}

func (s Suite) stopEndsLinks(t *testing.T) {
	ctx := context.Background()
	p := s.New()
	if err := p.Start(ctx, s.Env(t)); err != nil {
		t.Fatal(err)
	}
	l := s.Link(t, s.Actors[0])
	s.put(t, p, l)
	s.waitEffect(t, p, l, true)
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s.waitEffect(t, p, l, false)
	if err := p.PutLink(ctx, l); !errors.Is(err, providers.ErrNotStarted) {
		t.Errorf("PutLink after Stop: %v, want ErrNotStarted", err)
	}
}

// concurrent puts, deletes and uses links from many goroutines; run with
// -race it finds unguarded state.
func (s Suite) concurrent(t *testing.T) {
	p := s.start(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, id := range s.Actors {
		l := s.Link(t, id)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					_ = p.PutLink(ctx, l)
					_ = s.InEffect(t, p, l)
					for _, op := range s.Operations {
						_, _ = p.Handle(ctx, &providers.Request{ActorID: id, Link: l, Operation: op, Payload: []byte{0xa1, 'k'}})
					}
					_ = p.DeleteLink(ctx, l)
				}
			}()
		}
	}
	wg.Wait()
	// Whatever the interleaving, a final put works and a final delete ends it.
	l := s.Link(t, s.Actors[0])
	s.put(t, p, l)
	s.waitEffect(t, p, l, true)
	if err := p.DeleteLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	s.waitEffect(t, p, l, false)
}
