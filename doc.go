// Package spore holds the few types that every room of Spore shares: contract
// ids, links, the payload types of the built-in contracts, and the error codes
// that cross the lattice.
//
// It is a leaf: it imports nothing of Spore's, so the host, the lattice, the
// providers and the guest SDK can all depend on it without a cycle. The guest
// SDK compiles it to Wasm too, so it must stay free of anything that does not
// build for GOOS=wasip1.
package spore
