package actors_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/spore-run/spore/test/actors"
)

// TestABI checks that Go actors built with the SDK have the shape of a waPC
// guest (SPEC section 3): the exports the host calls, and imports only from
// wapc, with the right signatures, and WASI preview 1.
func TestABI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Wasm modules")
	}
	i32 := api.ValueTypeI32
	wapc := map[string]string{
		"__guest_request":     sig([]api.ValueType{i32, i32}, nil),
		"__guest_response":    sig([]api.ValueType{i32, i32}, nil),
		"__guest_error":       sig([]api.ValueType{i32, i32}, nil),
		"__host_call":         sig([]api.ValueType{i32, i32, i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}),
		"__host_response_len": sig(nil, []api.ValueType{i32}),
		"__host_response":     sig([]api.ValueType{i32}, nil),
		"__host_error_len":    sig(nil, []api.ValueType{i32}),
		"__host_error":        sig([]api.ValueType{i32}, nil),
		"__console_log":       sig([]api.ValueType{i32, i32}, nil),
	}
	for _, pkg := range []string{"test/actors/kitchen", "examples/hello"} {
		t.Run(pkg, func(t *testing.T) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter()) // only reads the module
			defer rt.Close(ctx)
			cm, err := rt.CompileModule(ctx, actors.Build(t, pkg))
			if err != nil {
				t.Fatal(err)
			}
			exports := cm.ExportedFunctions()
			if f, ok := exports["__guest_call"]; !ok {
				t.Error("no export __guest_call")
			} else if got, want := sig(f.ParamTypes(), f.ResultTypes()), sig([]api.ValueType{i32, i32}, []api.ValueType{i32}); got != want {
				t.Errorf("__guest_call is %s, want %s", got, want)
			}
			if f, ok := exports["_initialize"]; !ok {
				t.Error("no export _initialize: not built as a reactor (-buildmode=c-shared)")
			} else if len(f.ParamTypes())+len(f.ResultTypes()) != 0 {
				t.Error("_initialize takes or returns values")
			}
			if _, ok := exports["_start"]; ok {
				t.Error("exports _start: built as a command, not a reactor")
			}
			if _, ok := cm.ExportedMemories()["memory"]; !ok {
				t.Error("no exported memory")
			}
			for _, f := range cm.ImportedFunctions() {
				mod, name, _ := f.Import()
				switch mod {
				case "wasi_snapshot_preview1":
				case "wapc":
					want, ok := wapc[name]
					if !ok {
						t.Errorf("imports wapc.%s, which is not in the ABI", name)
					} else if got := sig(f.ParamTypes(), f.ResultTypes()); got != want {
						t.Errorf("wapc.%s is %s, want %s", name, got, want)
					}
				default:
					t.Errorf("imports %s.%s; only wapc and wasi_snapshot_preview1 are offered", mod, name)
				}
			}
		})
	}
}

func sig(params, results []api.ValueType) string {
	name := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ",")
	}
	return fmt.Sprintf("(%s)->(%s)", name(params), name(results))
}

func TestBuildCaches(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Wasm modules")
	}
	a, b := actors.Kitchen(t), actors.Kitchen(t)
	if len(a) == 0 || &a[0] != &b[0] {
		t.Fatal("Kitchen built twice")
	}
}
