package testkit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Languages are the languages of the counter example actor
// (examples/counter-LANG), in the order docs/languages.md shows them.
var Languages = []string{"go", "rust", "as", "c", "wat"}

// toolchains names what building each language's example needs: programs
// on PATH, or files (absolute paths) that Debian's packages install.
var toolchains = map[string][]string{
	"go":   {"go"},
	"rust": {"/usr/bin/rustc", "/usr/lib/rustlib/wasm32-wasi/lib"},
	"as":   {"node", "npm"},
	"c":    {"clang-14", "wasm-ld-14", "/usr/include/wasm32-wasi/stdlib.h", "/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi"},
	"wat":  {"wat2wasm"},
}

// Example builds the counter example of a language with `make` (the rule
// `make examples` uses, which rebuilds only what changed) and returns the
// unsigned module. A missing toolchain fails the test with a message that
// says to run `make tools`.
func Example(t testing.TB, lang string) []byte {
	t.Helper()
	tools, ok := toolchains[lang]
	if !ok {
		t.Fatalf("testkit: no counter example in %q (have %v)", lang, Languages)
	}
	if err := checkTools(append([]string{"make"}, tools...)); err != nil {
		t.Fatalf("testkit: counter-%s: %v: run 'make tools' (as root) to install the toolchains", lang, err)
	}
	target := filepath.Join("build", "examples", "counter-"+lang+".wasm")
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built["example:"+lang]; ok {
		return b
	}
	cmd := exec.Command("make", "-s", target)
	cmd.Dir = Root()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("testkit: make %s: %v\n%s(run 'make tools' if a toolchain is missing)", target, err, out.String())
	}
	b, err := os.ReadFile(filepath.Join(Root(), target))
	if err != nil {
		t.Fatal(err)
	}
	built["example:"+lang] = b
	return b
}

func checkTools(tools []string) error {
	for _, tool := range tools {
		if filepath.IsAbs(tool) {
			if _, err := os.Stat(tool); err != nil {
				return fmt.Errorf("%s is missing", tool)
			}
			continue
		}
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not on PATH", tool)
		}
	}
	return nil
}
