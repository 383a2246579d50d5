// Package providers defines what a capability provider is and keeps the
// registry of the built-in ones. Each provider lives in its own package
// (httpserver, keyvalue, messaging, httpclient, logging) and registers itself
// here in init, as litestream's backends do.
//
// # Lifecycle
//
// A host (or a standalone provider process) drives a provider through:
//
//  1. Start, once, with the Env it may use (log, lattice connection, a way to
//     invoke actors). Stop is safe to call even when Start failed.
//  2. PutLink and DeleteLink, any number of times, as links come and go.
//     PutLink validates the link's values and applies them (opens the port,
//     subscribes), and refuses bad values with a reason. Putting the same
//     link twice is one link; deleting ends its effect.
//  3. Handle, concurrently, for each call an actor makes to the contract. The
//     gate has already checked claims and the link; the request carries the
//     link, so the provider knows which bucket, host list or connection to
//     use.
//  4. Stop, once: stop accepting, finish or fail what is running, release
//     everything. Stop is idempotent.
//
// Data enters a provider through Handle (actor to provider) or from outside
// (an HTTP request, a NATS message), in which case the provider calls the
// actor through Env.Invoke.
//
// # Helpers and tests
//
// The helpers in values.go (State, CheckKeys, BadLink, DurationValue,
// SizeValue, ListValue, Decode, Encode, NotStarted, NoLink) keep the
// built-in providers' checks and errors alike. Package providertest is the
// conformance suite every provider passes. docs/providers.md has each
// provider's link values, errors and limits, and how links are applied
// across the lattice.
package providers
