package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/signing"
)

// The local commands (no lattice): keys gen, sign, inspect, run.

func TestKeysGen(t *testing.T) {
	c := newCLI(t, "")
	dir := t.TempDir()
	for kind, prefix := range map[string]string{"account": "A", "actor": "U", "host": "N", "cluster": "C"} {
		t.Run(kind, func(t *testing.T) {
			var res struct {
				Kind      string `json:"kind"`
				PublicKey string `json:"public_key"`
				SeedFile  string `json:"seed_file"`
			}
			c.json(t, &res, "keys", "gen", kind, "--out", dir)
			if res.Kind != kind || !strings.HasPrefix(res.PublicKey, prefix) {
				t.Fatalf("keys gen %s = %+v", kind, res)
			}
			st, err := os.Stat(res.SeedFile)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("seed file %s: %v, mode %v; want 0600", res.SeedFile, err, st.Mode())
			}
			kp, err := signing.LoadKey(res.SeedFile)
			if err != nil {
				t.Fatal(err)
			}
			if pub, _ := kp.PublicKey(); pub != res.PublicKey {
				t.Fatalf("seed file holds %s, printed %s", pub, res.PublicKey)
			}
		})
	}
	if _, _, err := c.run("keys", "gen", "module"); err == nil {
		t.Fatal("keys gen module: want a usage error")
	}
}

func TestSignInspectRun(t *testing.T) {
	c := newCLI(t, "")
	dir := t.TempDir()
	in := filepath.Join(dir, "hello.wasm")
	if err := os.WriteFile(in, testkit.GoActor(t, "examples/hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello_s.wasm")

	// sign: -o takes the file and, repeated, the output format.
	var signed struct {
		File string   `json:"file"`
		ID   string   `json:"id"`
		Name string   `json:"name"`
		Caps []string `json:"caps"`
		Rev  int      `json:"revision"`
	}
	c.json(t, &signed, "sign", in, "-o", out, "--name", "hello", "--cap", "spore:logging,spore:keyvalue", "--rev", "3")
	if signed.File != out || signed.Name != "hello" || signed.Rev != 3 || len(signed.Caps) != 2 || !signing.IsActorID(signed.ID) {
		t.Fatalf("sign = %+v", signed)
	}
	// Signing the same name again keeps its identity (an upgrade).
	var again struct {
		ID string `json:"id"`
	}
	c.json(t, &again, "sign", in, "-o", out, "--name", "hello", "--cap", "spore:logging", "--rev", "4")
	if again.ID != signed.ID {
		t.Fatalf("re-signing changed the identity: %s then %s", signed.ID, again.ID)
	}

	table := c.ok(t, "inspect", out)
	for _, want := range []string{"Name          hello", "ID            " + signed.ID, "Revision      4", "Capabilities  spore:logging"} {
		if !strings.Contains(table, want) {
			t.Errorf("inspect table lacks %q:\n%s", want, table)
		}
	}

	if got := c.ok(t, "run", out, "Hello", "tester"); got != "Hello, tester!" {
		t.Fatalf("run Hello = %q", got)
	}
	var res struct {
		Response string `json:"response"`
	}
	c.json(t, &res, "run", out, "Hello", "json")
	if res.Response != "Hello, json!" {
		t.Fatalf("run -o json response = %q", res.Response)
	}

	// Refusals name the rule.
	module, _ := os.ReadFile(out)
	tampered := bytes.Clone(module)
	tampered[len(tampered)/3] ^= 0xff
	bad := filepath.Join(dir, "tampered.wasm")
	os.WriteFile(bad, tampered, 0o644)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"inspect unsigned", []string{"inspect", in}, "unsigned"},
		{"inspect tampered", []string{"inspect", bad}, "hash mismatch"},
		{"run unsigned", []string{"run", in, "Hello"}, "unsigned"},
		{"run untrusted", []string{"run", out, "Hello", "--trusted-issuer", "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOYZ6R5NG7E"}, "issuer"},
		{"no such operation", []string{"run", out, "Nope"}, "no handler for operation Nope"},
		{"sign without -o", []string{"sign", in, "--name", "x"}, "-o OUT.wasm is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := c.run(tt.args...)
			if err == nil || !strings.Contains(err.Error()+stderr, tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestRunDenies shows spore run refusing host calls the way a host with no
// links does: no claim, or a claim but no link.
func TestRunDenies(t *testing.T) {
	c := newCLI(t, "")
	dir := t.TempDir()
	in := filepath.Join(dir, "kitchen.wasm")
	if err := os.WriteFile(in, testkit.GoActor(t, "test/actors/kitchen"), 0o644); err != nil {
		t.Fatal(err)
	}
	call := `{"binding":"","namespace":"spore:keyvalue","operation":"KeyValue.Get","payload":"k"}`
	for _, tt := range []struct {
		caps []string
		want string
	}{
		{nil, "has no claim for spore:keyvalue"},
		{[]string{"--cap", "spore:keyvalue"}, `has no link for spore:keyvalue (link name "default")`},
	} {
		out := filepath.Join(dir, "k.wasm")
		c.ok(t, append([]string{"sign", in, "-o", out, "--name", "kitchen"}, tt.caps...)...)
		_, stderr, err := c.run("run", out, "HostCall", "--json", call)
		if err == nil || !strings.Contains(err.Error()+stderr, tt.want) {
			t.Errorf("caps %v: err = %v, want %q", tt.caps, err, tt.want)
		}
	}
	// Logging is served in-process.
	out := filepath.Join(dir, "k.wasm")
	c.ok(t, "sign", in, "-o", out, "--name", "kitchen", "--cap", "spore:logging")
	if got := c.ok(t, "run", out, "Log", "hello log"); got != "ok" {
		t.Errorf("run Log = %q", got)
	}
}
