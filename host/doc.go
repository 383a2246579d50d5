// Package host runs signed Wasm actors in wazero sandboxes.
//
// Data enters through Host.Load (module bytes, verified by package signing and
// compiled once, with an on-disk compilation cache) and Actor.Invoke (an
// operation and a payload). It leaves as the guest's response, or as host calls
// the guest makes: every __host_call passes the capability gate (the claims
// must list the contract, and a linked contract needs a link from the
// LinkSource) and then goes to the Router, except calls to actors this host
// runs, which never leave the process.
//
// Each actor has a pool of instances. An instance serves one invocation at a
// time; the pool holds at most Limits.MaxInstances of them, keeps
// Limits.Warm ready, and replaces any instance that traps, exhausts its memory
// or overruns its deadline. Memory is capped per instance by a wazero memory
// allocator, so one runtime serves every actor. Deadlines are kept by one
// watchdog goroutine per host; a guest learns of its own through the budget
// check that package interrupt adds to the top of every loop of the module,
// which calls the host's yield function every few thousand loop turns, so
// even a loop that never calls out stops within a watchdog tick.
//
// # Notes
//
//   - Payloads are copied out of guest memory at the boundary: nothing the
//     host keeps aliases a guest's memory, which may move when it grows.
//   - Cancelling the caller's context aborts the invocation too; it costs one
//     allocation per call, so callers that never cancel pass a context
//     without a Done channel.
package host
