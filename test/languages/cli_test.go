package languages_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore/internal/testkit"
)

// TestCounterWithSpore follows the SDK READMEs with the spore command, as a
// user does: spore sign each example, spore up, spore provider start,
// spore actor start FILE, spore link put, and count over HTTP.
func TestCounterWithSpore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds spore and Wasm modules in five languages, runs a host process")
	}
	dir := t.TempDir()
	bin := testkit.Spore(t)
	natsURL := "nats://" + testkit.FreeAddr(t)
	env := testkit.SporeEnv("SPORE_HOME="+filepath.Join(dir, "home"), "SPORE_NATS="+natsURL)
	spore := func(t *testing.T, args ...string) {
		t.Helper()
		if out, errOut, err := testkit.RunSpore(bin, env, time.Minute, args...); err != nil {
			t.Fatalf("spore %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
	}

	up := exec.Command(bin, "up", "-o", "json", "--nats-listen", strings.TrimPrefix(natsURL, "nats://"),
		"--leaf-listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"))
	up.Env = env
	testkit.StartHost(t, "spore up", 30*time.Second, up)
	spore(t, "provider", "start", "httpserver")
	spore(t, "provider", "start", "keyvalue")

	for _, lang := range testkit.Languages {
		t.Run(lang, func(t *testing.T) {
			name := "counter-" + lang
			unsigned := filepath.Join(dir, name+".wasm")
			signed := filepath.Join(dir, name+"_s.wasm")
			if err := os.WriteFile(unsigned, testkit.Example(t, lang), 0o644); err != nil {
				t.Fatal(err)
			}
			spore(t, "sign", unsigned, "-o", signed, "--name", name, "--cap", "spore:httpserver", "--cap", "spore:keyvalue")
			spore(t, "actor", "start", signed)
			addr := testkit.FreeAddr(t)
			spore(t, "link", "put", name, "spore:keyvalue", "bucket=counter_"+lang)
			spore(t, "link", "put", name, "spore:httpserver", "address="+addr)
			countTwice(t, "http://"+addr+"/hits")
		})
	}
}
