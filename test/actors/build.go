// Package actors builds the Wasm actors that tests run: the kitchen actor in
// kitchen/ (one operation per thing a guest can do to its host) and, by
// path, any other actor of the module such as examples/hello.
//
// Modules are built with the go command found in PATH, as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o OUT.wasm ./PKG
//
// Nothing built is committed; Go's build cache makes a rebuild cheap, and each
// test binary builds each actor once.
package actors

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string][]byte{}
)

// Kitchen returns the kitchen test actor (test/actors/kitchen), unsigned.
func Kitchen(tb testing.TB) []byte {
	tb.Helper()
	return Build(tb, "test/actors/kitchen")
}

// Build compiles the actor in pkg, a directory relative to the module root
// ("examples/hello"), and returns the unsigned module. It fails tb if the
// build fails.
func Build(tb testing.TB, pkg string) []byte {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built[pkg]; ok {
		return b
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		tb.Fatalf("actors: build %s: the go command is not in PATH: %v", pkg, err)
	}
	dir, err := os.MkdirTemp("", "spore-actor-")
	if err != nil {
		tb.Fatalf("actors: build %s: %v", pkg, err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "actor.wasm")
	cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-o", out, "./"+filepath.ToSlash(pkg))
	cmd.Dir = moduleRoot()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("actors: build %s: %v\n%s", pkg, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatalf("actors: build %s: %v", pkg, err)
	}
	built[pkg] = b
	return b
}

// moduleRoot is two levels above this file: test/actors/build.go.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
