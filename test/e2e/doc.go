// Package e2e runs real spore processes: it builds bin/spore once, starts
// hosts with 'spore up' on free loopback ports (each with its own
// SPORE_HOME and data dir), and drives them with the spore CLI as a user
// would: a lattice of three hosts, a host killed with SIGKILL, a restart of
// every host with the state kept, and an edge host on a NATS leaf node that
// keeps serving while its hub is gone. See docs/cli.md for what each
// command does.
package e2e
