// Package lattice joins hosts into a lattice over NATS.
//
// A Node is one host in a lattice: it starts an embedded NATS server with
// JetStream (or joins one, or runs a leaf node of one), opens the lattice's
// state in JetStream (links, claims and app manifests in KV buckets, pushed
// actors and oversized payloads in object stores), and serves:
//
//   - the control interface on spore.ctl.<lattice>.> (JSON requests, each
//     answered with a Reply that says what happened, not merely that it was
//     accepted);
//   - invocations on spore.rpc.<lattice>.<actor id> (one queue group per
//     actor, so hosts running it share the load) and
//     spore.rpc.<lattice>.<provider>.<link name>;
//   - events on spore.evt.<lattice>.<type>, CloudEvents 1.0 in JSON,
//     including a heartbeat every DefaultHeartbeat.
//
// Invocations are MessagePack envelopes (Invocation) carrying a token made
// with the lattice's cluster key; a host drops any whose token does not
// verify. A call whose target runs on the same host never leaves the
// process. Client is the other side: what the CLI, the tests and the app
// reconciler use to drive a lattice.
//
// docs/protocol.md describes the wire protocol for implementers in other
// languages.
package lattice
