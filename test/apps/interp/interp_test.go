// Package interp measures what wazero's interpreter costs against its
// compiler: hosts on linux/arm (armv7, such as a Raspberry Pi with a 32-bit
// OS) get the interpreter, since wazero compiles only for amd64 and arm64.
// docs/apps.md reports the numbers:
//
//	go test ./test/apps/interp -run XXX -bench . -benchtime 20x
package interp

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/spore-run/spore/internal/testkit"
)

var engines = []struct {
	name string
	cfg  func() wazero.RuntimeConfig
}{
	{"compiler", wazero.NewRuntimeConfigCompiler},
	{"interpreter", wazero.NewRuntimeConfigInterpreter},
}

// BenchmarkCompile compiles a Go actor (examples/counter, about 2 MB of
// Wasm): what a host pays once per actor it starts.
func BenchmarkCompile(b *testing.B) {
	module := testkit.GoActor(b, "examples/counter")
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				r := wazero.NewRuntimeWithConfig(ctx, e.cfg())
				if _, err := r.CompileModule(ctx, module); err != nil {
					b.Fatal(err)
				}
				r.Close(ctx)
			}
		})
	}
}

// BenchmarkFib runs recursive fib(25), about 250 thousand guest calls: pure
// guest compute.
func BenchmarkFib(b *testing.B) { benchFib(b, 25, 75025) }

// BenchmarkCall calls fib(1): the cost of entering and leaving the guest,
// which every invocation pays.
func BenchmarkCall(b *testing.B) { benchFib(b, 1, 1) }

func benchFib(b *testing.B, n, want uint64) {
	module := testkit.WAT(b, "test/apps/interp/testdata/fib.wat")
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			ctx := context.Background()
			r := wazero.NewRuntimeWithConfig(ctx, e.cfg())
			defer r.Close(ctx)
			m, err := r.Instantiate(ctx, module)
			if err != nil {
				b.Fatal(err)
			}
			fib := m.ExportedFunction("fib")
			for b.Loop() {
				out, err := fib.Call(ctx, n)
				if err != nil || out[0] != want {
					b.Fatalf("fib(%d) = %v, %v", n, out, err)
				}
			}
		})
	}
}
