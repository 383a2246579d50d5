package host

import (
	"context"
	"fmt"

	"github.com/spore-run/spore"
)

// Call is one host call a guest made through __host_call that the gate
// allowed.
type Call struct {
	// Actor is the caller.
	Actor *Actor
	// Binding is the link name; never empty (empty becomes "default").
	Binding string
	// Namespace is a contract id, or the target actor's id or call alias.
	Namespace string
	Operation string
	// Payload is a copy; the callee may keep it.
	Payload []byte
	// Link is the link that allowed a linked contract, or nil for a contract
	// that needs none and for calls to actors.
	Link *spore.Link
}

// Router delivers allowed host calls: to in-process providers, or across the
// lattice.
type Router interface {
	Route(ctx context.Context, call *Call) ([]byte, error)
}

// RouterFunc adapts a function to Router.
type RouterFunc func(ctx context.Context, call *Call) ([]byte, error)

// Route calls f.
func (f RouterFunc) Route(ctx context.Context, call *Call) ([]byte, error) { return f(ctx, call) }

// LinkSource answers whether an actor is linked for a contract under a link
// name. The lattice fills it from its link table.
type LinkSource interface {
	Link(actorID, contract, linkName string) (spore.Link, bool)
}

// LinkSourceFunc adapts a function to LinkSource.
type LinkSourceFunc func(actorID, contract, linkName string) (spore.Link, bool)

// Link calls f.
func (f LinkSourceFunc) Link(actorID, contract, linkName string) (spore.Link, bool) {
	return f(actorID, contract, linkName)
}

// authorize applies the capability gate to a host call: the caller's claims
// must list the contract (spore:actor for calls to actors), and a linked
// contract needs a link. It fills call.Link.
func (h *Host) authorize(call *Call) error {
	a := call.Actor
	contract := call.Namespace
	if !spore.IsContractID(contract) {
		contract = spore.ContractActor
	}
	if !a.claims.HasCap(contract) {
		return spore.Errorf(spore.CodeDenied, "%s has no claim for %s: sign it with --cap %s: %w",
			a, contract, contract, ErrDenied)
	}
	if spore.Unlinked(contract) {
		return nil
	}
	if h.cfg.links == nil {
		return spore.Errorf(spore.CodeDenied, "%s has no link for %s (link name %q): this host has no links: %w",
			a, contract, call.Binding, ErrDenied)
	}
	l, ok := h.cfg.links.Link(a.ID(), contract, call.Binding)
	if !ok {
		return spore.Errorf(spore.CodeDenied, "%s has no link for %s (link name %q): put one with 'spore link put': %w",
			a, contract, call.Binding, ErrDenied)
	}
	call.Link = &l
	return nil
}

// dispatch runs an allowed host call: to a local actor when the namespace
// names one, otherwise to the router.
func (h *Host) dispatch(ctx context.Context, call *Call) ([]byte, error) {
	if !spore.IsContractID(call.Namespace) {
		if target := h.Actor(call.Namespace); target != nil {
			return target.Invoke(ctx, call.Operation, call.Payload)
		}
	}
	if h.cfg.router == nil {
		return nil, spore.Errorf(spore.CodeUnavailable, "%s: nothing serves %s on this host", call.Actor, describeTarget(call))
	}
	return h.cfg.router.Route(ctx, call)
}

func describeTarget(call *Call) string {
	if spore.IsContractID(call.Namespace) {
		return fmt.Sprintf("%s (link name %q)", call.Namespace, call.Binding)
	}
	return fmt.Sprintf("actor %q", call.Namespace)
}
