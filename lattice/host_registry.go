package lattice

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Every host keeps an entry in the hosts registry, a KV bucket whose entries
// expire HostTTL after their last refresh: put once the host serves its
// control subjects, refreshed every DefaultHeartbeat, deleted when it stops.
// The entry holds the host's labels, so a client can tell which hosts an
// auction waits for as well as a ping. It is a hint that lets scatter stop
// early, never the answer: what a client lists comes from the hosts that
// answer.

const bucketHosts = "hosts" // host id -> hostEntry (JSON), expiring after HostTTL

// hostEntry is a host's entry in the hosts registry.
type hostEntry struct {
	Labels map[string]string `json:"labels"`
}

// registerHost records (or refreshes) this host and its labels in the hosts
// registry.
func (n *Node) registerHost() {
	n.mu.Lock()
	b, _ := json.Marshal(hostEntry{Labels: n.labels})
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	if _, err := n.hostRegistry.Put(ctx, n.id, b); err != nil {
		n.log.Warn("could not refresh the hosts registry", "err", err)
	}
}

// unregisterHost removes this host from the hosts registry, before it stops
// answering.
func (n *Node) unregisterHost() {
	if n.hostRegistry == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = n.hostRegistry.Delete(ctx, n.id)
}

// dueHosts returns the ids of the live hosts whose labels hold the
// constraints: the hosts that answer a ping (no constraints) or an auction.
// It returns nil when the hosts registry cannot be read, such as from a leaf
// host cut off from its hub's JetStream, or on a lattice whose hosts predate
// it.
func (c *Client) dueHosts(ctx context.Context, constraints map[string]string) map[string]bool {
	var js jetstream.JetStream
	if c.state != nil {
		js = c.state.js
	} else {
		var err error
		if js, err = jetstream.New(c.nc); err != nil {
			return nil
		}
	}
	kv, err := js.KeyValue(ctx, c.subj.Bucket(bucketHosts))
	if err != nil {
		return nil
	}
	due := map[string]bool{}
	err = eachValue(ctx, kv, func(id string, v []byte) {
		var e hostEntry
		// An entry that does not decode counts as due: waiting for a
		// host that stays silent costs time, missing one costs an answer.
		if json.Unmarshal(v, &e) != nil || Satisfies(e.Labels, constraints) {
			due[id] = true
		}
	})
	if err != nil {
		return nil
	}
	return due
}
