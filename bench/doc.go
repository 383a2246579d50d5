// Package bench measures Spore against the floor under it and against its
// peer: the same echo actor invoked through a hand-written waPC loop on raw
// wazero, through github.com/wapc/wapc-go on its wazero engine, and through
// host.Actor.Invoke, with and without deadlines.
//
// It is a module of its own so that wapc-go, which only the comparison needs,
// stays out of Spore's go.mod. The benchmarks are in host_test.go; the
// instantiation benchmarks need the host's internals and live in
// host/bench_test.go. run.sh runs both and cmd/report writes the results to
// docs/benchmarks.md:
//
//	make bench
package bench
