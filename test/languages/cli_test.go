package languages_test

import (
	"context"
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
	bin := filepath.Join(dir, "spore")
	build := exec.Command("go", "build", "-o", bin, "./cmd/spore")
	build.Dir = testkit.Root()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/spore: %v\n%s", err, out)
	}
	natsURL := "nats://" + freeAddr(t)
	env := []string{"SPORE_HOME=" + filepath.Join(dir, "home"), "SPORE_NATS=" + natsURL}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPORE_") {
			env = append(env, kv)
		}
	}
	spore := func(t *testing.T, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("spore %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	log, err := os.Create(filepath.Join(dir, "up.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	up := exec.Command(bin, "up", "--nats-listen", strings.TrimPrefix(natsURL, "nats://"),
		"--leaf-listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"))
	up.Env, up.Stdout, up.Stderr = env, log, log
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- up.Wait() }()
	t.Cleanup(func() {
		_ = up.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = up.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("spore up:\n%s", b)
		}
	})
	testkit.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		cmd := exec.Command(bin, "host", "ls")
		cmd.Env = env
		_, err := cmd.Output()
		return err
	})
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
			addr := freeAddr(t)
			spore(t, "link", "put", name, "spore:keyvalue", "bucket=counter_"+lang)
			spore(t, "link", "put", name, "spore:httpserver", "address="+addr)
			countTwice(t, "http://"+addr+"/hits")
		})
	}
}
