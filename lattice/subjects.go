package lattice

import (
	"fmt"
	"regexp"
	"strings"
)

// A lattice id names one namespace on a NATS server: every subject, KV bucket
// and object store of the lattice carries it, so several lattices share one
// server without seeing each other.
var latticeID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CheckLatticeID refuses ids that cannot be a subject token and a bucket
// name alike.
func CheckLatticeID(id string) error {
	if !latticeID.MatchString(id) {
		return fmt.Errorf("lattice: id %q: use 1-64 letters, digits, '-' or '_'", id)
	}
	return nil
}

// Subjects builds the lattice's NATS subjects. See docs/protocol.md.
type Subjects struct{ L string }

// ActorRPC is where invocations to an actor go; every host running the actor
// subscribes in one queue group.
func (s Subjects) ActorRPC(actorID string) string { return "spore.rpc." + s.L + "." + actorID }

// ProviderRPC is where invocations to a provider under a link name go.
func (s Subjects) ProviderRPC(provider, linkName string) string {
	return "spore.rpc." + s.L + "." + provider + "." + token(linkName)
}

// ProviderRPCAll matches every link name of a provider.
func (s Subjects) ProviderRPCAll(provider string) string {
	return "spore.rpc." + s.L + "." + provider + ".*"
}

// Ctl is a lattice-wide control subject, such as "ping" or "link.put".
func (s Subjects) Ctl(op string) string { return "spore.ctl." + s.L + "." + op }

// HostCtl is a control subject of one host, such as "actor.start".
func (s Subjects) HostCtl(hostID, op string) string {
	return "spore.ctl." + s.L + ".host." + hostID + "." + op
}

// Event is the subject of an event type; "*" and ">" make filters.
func (s Subjects) Event(typ string) string { return "spore.evt." + s.L + "." + typ }

// Bucket names the lattice's KV bucket or object store of a kind.
func (s Subjects) Bucket(kind string) string { return "spore_" + s.L + "_" + kind }

// token makes s one subject token.
func token(s string) string {
	if s == "" {
		return "default"
	}
	return strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_").Replace(s)
}

// The lattice's buckets.
const (
	bucketLinks     = "links"     // link key -> spore.Link (JSON)
	bucketClaims    = "claims"    // actor id -> claims JWT
	bucketApps      = "apps"      // app name -> manifest
	bucketLattice   = "lattice"   // cluster key and other lattice-wide settings
	bucketArtifacts = "artifacts" // object store: pushed actor modules
	bucketBlobs     = "blobs"     // object store: payloads too large for one message
)

// Control operations. Lattice-wide ones go to Subjects.Ctl, per-host ones to
// Subjects.HostCtl.
const (
	OpPing          = "ping"
	OpAuction       = "auction"
	OpLinkPut       = "link.put"
	OpLinkDel       = "link.del"
	OpActorStart    = "actor.start"
	OpActorStop     = "actor.stop"
	OpActorScale    = "actor.scale"
	OpProviderStart = "provider.start"
	OpProviderStop  = "provider.stop"
	OpLinkCheck     = "link.check"
	OpLabelsPut     = "labels.put"
	OpLabelsDel     = "labels.del"
	OpInventory     = "inventory"
	OpHostStop      = "stop"
)
