package languages_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/spore-run/spore/internal/testkit"
)

// TestRustSDKUnit runs the Rust SDK's own unit tests (its MessagePack codec
// and dispatch), natively, with rustc --test.
func TestRustSDKUnit(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Rust")
	}
	if _, err := os.Stat("/usr/bin/rustc"); err != nil {
		t.Fatalf("/usr/bin/rustc is missing: run 'make tools' (as root) to install the toolchains")
	}
	bin := filepath.Join(t.TempDir(), "spore-test")
	build := exec.Command("/usr/bin/rustc", "--edition", "2021", "--test", "-o", bin, "actors/rust/spore.rs")
	build.Dir = testkit.Root()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("rustc --test actors/rust/spore.rs: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin).CombinedOutput(); err != nil {
		t.Fatalf("Rust SDK tests: %v\n%s", err, out)
	}
}
