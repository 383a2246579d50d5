package lattice

import (
	"encoding/json"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
)

// The control interface speaks JSON. Every request gets a Reply: Error set
// when the operation failed (with a stable code and the host's reason), Data
// holding the operation's result otherwise. See docs/protocol.md.

// Reply answers every control request.
type Reply struct {
	Error *spore.Error    `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// HostInfo describes a host: the answer to ping and inventory, and the body
// of heartbeats.
type HostInfo struct {
	ID        string            `json:"id"`
	Lattice   string            `json:"lattice"`
	Labels    map[string]string `json:"labels"`
	Version   string            `json:"version"`
	StartedAt time.Time         `json:"started_at"`
	// Instances is the number of actor instances (pool slots) the host
	// runs, its load for auctions.
	Instances int            `json:"instances"`
	Actors    []ActorInfo    `json:"actors"`
	Providers []ProviderInfo `json:"providers"`
}

// ActorInfo is one actor on one host.
type ActorInfo struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Revision  int         `json:"revision"`
	CallAlias string      `json:"call_alias,omitempty"`
	Ref       string      `json:"ref,omitempty"`
	HostID    string      `json:"host_id"`
	Instances int         `json:"instances"`
	Stats     *host.Stats `json:"stats,omitempty"`
	// Annotations tie the actor to what started it (such as an app).
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ProviderInfo is one provider on one host.
type ProviderInfo struct {
	Name        string            `json:"name"`
	Contract    string            `json:"contract"`
	HostID      string            `json:"host_id"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// StartActor asks a host to run an actor. Ref is an artifact reference
// (name:version or sha256:digest) in the lattice's store.
type StartActor struct {
	Ref         string            `json:"ref"`
	Instances   int               `json:"instances"`
	Limits      host.Limits       `json:"limits,omitzero"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// StopActor asks a host to stop an actor (by id, alias or name).
type StopActor struct {
	Actor string `json:"actor"`
}

// ScaleActor sets how many instances of a running actor a host keeps.
type ScaleActor struct {
	Actor     string `json:"actor"`
	Instances int    `json:"instances"`
}

// StartProvider asks a host to run a provider.
type StartProvider struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Process runs the provider in a process of its own (spore provider
	// run) that the host supervises: restarted when it dies, stopped with
	// the host.
	Process bool `json:"process,omitempty"`
}

// StopProvider asks a host to stop a provider.
type StopProvider struct {
	Name string `json:"name"`
}

// Auction asks hosts which of them can take an actor or a provider. Hosts
// whose labels hold every constraint answer with their HostInfo.
type Auction struct {
	Constraints map[string]string `json:"constraints,omitempty"`
	// Actor, when set, is the actor id to be placed; hosts already running
	// it still answer, and say so in their inventory.
	Actor string `json:"actor,omitempty"`
	// Provider, when set, is the provider to be placed.
	Provider string `json:"provider,omitempty"`
}

// Labels changes a host's labels.
type Labels struct {
	Labels map[string]string `json:"labels"`
}

// Satisfies reports whether labels hold every constraint.
func Satisfies(labels, constraints map[string]string) bool {
	for k, v := range constraints {
		if labels[k] != v {
			return false
		}
	}
	return true
}
