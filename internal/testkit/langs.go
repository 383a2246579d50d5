package testkit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Languages are the languages of the counter example actor
// (examples/counter-LANG, examples/counter for Go), in the order
// docs/languages.md shows them.
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

// rustFlags, cFlags and ascFlags are the Makefile's for the examples.
var (
	rustFlags = []string{"--edition", "2021", "--target", "wasm32-wasi", "--crate-type", "cdylib", "-C", "opt-level=s",
		"-C", "panic=abort", "-C", "lto", "-C", "codegen-units=1", "-C", "strip=symbols", "-C", "link-arg=-zstack-size=65536"}
	cFlags = []string{"--target=wasm32-wasi", "-mexec-model=reactor", "-Oz", "-Wall", "-Wextra", "-Werror",
		"-I", "actors/c", "-Wl,--strip-all", "-Wl,--stack-first"}
)

// RustActor builds a Rust actor from one source file (relative to the
// repository root) that includes actors/rust/spore.rs.
func RustActor(t testing.TB, src string) []byte {
	t.Helper()
	need(t, "rust")
	return cached(t, "rust:"+src, func(out string) *exec.Cmd {
		return rootCmd("/usr/bin/rustc", append(rustFlags, "-o", out, src)...)
	})
}

// CActor builds a C actor from its sources (relative to the repository
// root) and actors/c/spore.c.
func CActor(t testing.TB, srcs ...string) []byte {
	t.Helper()
	need(t, "c")
	return cached(t, "c:"+strings.Join(srcs, ","), func(out string) *exec.Cmd {
		return rootCmd("clang-14", append(append(cFlags, "-o", out, "actors/c/spore.c"), srcs...)...)
	})
}

// WATActor builds a WAT actor: actors/wat/spore.wat followed by the
// handler files (relative to the repository root).
func WATActor(t testing.TB, srcs ...string) []byte {
	t.Helper()
	need(t, "wat")
	src := []byte{}
	for _, f := range append([]string{"actors/wat/spore.wat"}, srcs...) {
		b, err := os.ReadFile(filepath.Join(Root(), f))
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	return cached(t, "watactor:"+strings.Join(srcs, ","), func(out string) *exec.Cmd {
		cmd := exec.Command("wat2wasm", "-", "-o", out)
		cmd.Stdin = bytes.NewReader(src)
		return cmd
	})
}

// ASActor builds an AssemblyScript actor from its entry file and asconfig
// (relative to the repository root), installing the packages of
// actors/assemblyscript first if they are not.
func ASActor(t testing.TB, entry, config string) []byte {
	t.Helper()
	need(t, "as")
	makeTarget(t, "actors/assemblyscript/node_modules/.package-lock.json")
	return cached(t, "as:"+entry, func(out string) *exec.Cmd {
		return rootCmd("actors/assemblyscript/node_modules/.bin/asc", entry, "--config", config, "--outFile", out)
	})
}

func rootCmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = Root()
	return cmd
}

// need fails the test when a language's toolchain is missing.
func need(t testing.TB, lang string) {
	t.Helper()
	if err := checkTools(append([]string{"make"}, toolchains[lang]...)); err != nil {
		t.Fatalf("testkit: %s actors: %v: run 'make tools' (as root) to install the toolchains", lang, err)
	}
}

// makeTarget runs make for one target in the repository root.
func makeTarget(t testing.TB, target string) {
	t.Helper()
	cmd := rootCmd("make", "-s", target)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("testkit: make %s: %v\n%s(run 'make tools' if a toolchain is missing)", target, err, out.String())
	}
}

// Example builds the counter example of a language with `make` (the rule
// `make examples` uses, which rebuilds only what changed) and returns the
// unsigned module. A missing toolchain fails the test with a message that
// says to run `make tools`.
func Example(t testing.TB, lang string) []byte {
	t.Helper()
	if _, ok := toolchains[lang]; !ok {
		t.Fatalf("testkit: no counter example in %q (have %v)", lang, Languages)
	}
	need(t, lang)
	target := filepath.Join("build", "examples", "counter-"+lang+".wasm")
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built["example:"+lang]; ok {
		return b
	}
	makeTarget(t, target)
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
