// Package testkit builds real Wasm actors from the sources in the repository
// and signs them, for tests. Nothing here is a mock: WAT goes through
// wat2wasm, Go actors through the Go toolchain with GOOS=wasip1.
package testkit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/spore-run/spore/signing"
)

var (
	mu    sync.Mutex
	built = map[string][]byte{}
)

// CacheDir is a compilation cache shared by every test and every process the
// tests start, so each module is compiled once per machine rather than once
// per test: under the race detector, compiling a Go actor takes most of a
// minute. Processes find it through SPORE_CACHE_DIR, which importing testkit
// sets.
func CacheDir() string { return cacheDir }

var cacheDir = func() string {
	if d := os.Getenv("SPORE_CACHE_DIR"); d != "" {
		return d
	}
	d := filepath.Join(os.TempDir(), "spore-test-cache")
	os.Setenv("SPORE_CACHE_DIR", d)
	return d
}()

// Root returns the repository root, found from this file's location.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// WAT assembles a .wat file (relative to the repository root) with wat2wasm.
func WAT(t testing.TB, path string) []byte {
	t.Helper()
	return cached(t, "wat:"+path, func(out string) *exec.Cmd {
		return exec.Command("wat2wasm", filepath.Join(Root(), path), "-o", out)
	})
}

// GoActor builds the Go actor in dir (relative to the repository root) as a
// wasip1 reactor.
func GoActor(t testing.TB, dir string) []byte {
	t.Helper()
	return cached(t, "go:"+dir, func(out string) *exec.Cmd {
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
		cmd.Dir = filepath.Join(Root(), dir)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		return cmd
	})
}

func cached(t testing.TB, key string, build func(out string) *exec.Cmd) []byte {
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built[key]; ok {
		return b
	}
	dir, err := os.MkdirTemp("", "spore-testkit-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.wasm")
	cmd := build(out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("testkit: build %s: %v\n%s(run 'make tools' to install wat2wasm and the other toolchains)", key, err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	built[key] = b
	return b
}

// Signer holds an issuer key and signs modules with fresh actor keys.
type Signer struct {
	Issuer nkeys.KeyPair
}

// NewSigner makes a signer with a new account key.
func NewSigner(t testing.TB) *Signer {
	t.Helper()
	kp, err := signing.NewKey(signing.KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{Issuer: kp}
}

// IssuerKey returns the issuer's public key.
func (s *Signer) IssuerKey() string {
	pub, _ := s.Issuer.PublicKey()
	return pub
}

// Sign signs module with a new actor key, the name and the capabilities.
func (s *Signer) Sign(t testing.TB, module []byte, name string, caps ...string) []byte {
	t.Helper()
	kp, err := signing.NewKey(signing.KindActor)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := kp.PublicKey()
	return s.SignClaims(t, module, signing.Claims{ID: id, Name: name, Revision: 1, Caps: caps})
}

// SignClaims signs module with the given claims.
func (s *Signer) SignClaims(t testing.TB, module []byte, c signing.Claims) []byte {
	t.Helper()
	out, _, err := signing.Sign(module, c, s.Issuer)
	if err != nil {
		t.Fatalf("sign %s: %v", c.Name, err)
	}
	return out
}

// CheckFor calls f every poll until it returns nil, and fails the test with
// f's last error if total passes first.
func CheckFor(t testing.TB, total, poll time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", total, err)
		}
		time.Sleep(poll)
	}
}
