// Package actors names the Wasm actors that tests run: the kitchen actor in
// kitchen/ (one operation per thing a guest can do to its host) and, by
// path, any other actor of the module such as examples/hello. The building
// itself is internal/testkit's.
package actors

import (
	"testing"

	"github.com/spore-run/spore/internal/testkit"
)

// Kitchen returns the kitchen test actor (test/actors/kitchen), unsigned.
func Kitchen(tb testing.TB) []byte {
	tb.Helper()
	return Build(tb, "test/actors/kitchen")
}

// Build compiles the Go actor in pkg, a directory relative to the module root
// ("examples/hello"), and returns the unsigned module.
func Build(tb testing.TB, pkg string) []byte {
	tb.Helper()
	return testkit.GoActor(tb, pkg)
}
