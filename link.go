package spore

import (
	"fmt"
	"sort"
	"strings"
)

// Link binds an actor's use of a contract, under a link name, to a provider,
// with string values that configure the provider for that actor.
type Link struct {
	ActorID  string            `json:"actor_id" msgpack:"actor_id"`
	Contract string            `json:"contract" msgpack:"contract"`
	LinkName string            `json:"link_name" msgpack:"link_name"`
	Provider string            `json:"provider" msgpack:"provider"`
	Values   map[string]string `json:"values,omitempty" msgpack:"values"`
}

// Key identifies a link: one actor has at most one link per contract and link
// name.
func (l Link) Key() string {
	return l.ActorID + "." + keyPart(l.Contract) + "." + keyPart(LinkName(l.LinkName))
}

// String renders the link for logs and errors.
func (l Link) String() string {
	keys := make([]string, 0, len(l.Values))
	for k := range l.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s (%s, %s)", l.ActorID, l.Provider, l.Contract, LinkName(l.LinkName))
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, l.Values[k])
	}
	return b.String()
}

// keyPart makes a string safe as one token of a NATS subject or KV key.
func keyPart(s string) string { return keyReplacer.Replace(s) }

// keyReplacer is made once: Key runs on every call that uses a link.
var keyReplacer = strings.NewReplacer(":", "_", ".", "_", " ", "_", "*", "_", ">", "_")
