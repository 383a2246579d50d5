package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
	"github.com/spore-run/spore/signing"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startHub starts a lattice host with an embedded NATS server on a free
// port, in this process.
func startHub(t *testing.T, labels map[string]string) *lattice.Node {
	t.Helper()
	n, err := lattice.Start(context.Background(), lattice.Options{
		Server: lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: t.TempDir()},
		Labels: labels, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

// joinHost starts a host that joins the NATS server at url.
func joinHost(t *testing.T, url string, labels map[string]string) *lattice.Node {
	t.Helper()
	n, err := lattice.Start(context.Background(), lattice.Options{NATSURL: url, Labels: labels, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

// cli runs spore commands in this process against one lattice.
type cli struct {
	url  string
	home string
}

func newCLI(t *testing.T, url string) *cli { return &cli{url: url, home: t.TempDir()} }

// start runs a command until ctx ends; wait returns its error.
func (c *cli) start(ctx context.Context, args ...string) (stdout, stderr *testkit.Buffer, wait func() error) {
	cmd := NewCommand()
	stdout, stderr = &testkit.Buffer{}, &testkit.Buffer{}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetIn(strings.NewReader(""))
	pre := []string{"--home", c.home, "--lattice", "default"}
	if args[0] != "up" { // for up, --nats means join
		pre = append(pre, "--nats", c.url)
	}
	cmd.SetArgs(append(pre, args...))
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	return stdout, stderr, func() error { return <-done }
}

// run runs one command to its end.
func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a Go actor compiles slowly under -race
	defer cancel()
	out, errOut, wait := c.start(ctx, args...)
	err = wait()
	return out.String(), errOut.String(), err
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		t.Fatalf("spore %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// json runs a command with -o json and decodes its stdout into v.
func (c *cli) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out := c.ok(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("spore %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// signedFile signs module and writes it where the CLI can read it.
func signedFile(t *testing.T, module []byte, c signing.Claims) string {
	t.Helper()
	s := testkit.NewSigner(t)
	kp, err := signing.NewKey(signing.KindActor)
	if err != nil {
		t.Fatal(err)
	}
	c.ID, _ = kp.PublicKey()
	path := filepath.Join(t.TempDir(), c.Name+".wasm")
	if err := os.WriteFile(path, s.SignClaims(t, module, c), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func echoFile(t *testing.T) string {
	return signedFile(t, testkit.WAT(t, "host/testdata/echo.wat"), signing.Claims{Name: "echo", Revision: 1, CallAlias: "parrot"})
}

func TestLatticeCommands(t *testing.T) {
	hub := startHub(t, map[string]string{"zone": "cloud"})
	edge := joinHost(t, hub.ClientURL(), map[string]string{"zone": "edge"})
	c := newCLI(t, hub.ClientURL())
	echo := echoFile(t)

	t.Run("host ls", func(t *testing.T) {
		out := c.ok(t, "host", "ls")
		for _, want := range []string{"HOST", "UPTIME", hub.ID(), edge.ID(), "zone=edge", "zone=cloud"} {
			if !strings.Contains(out, want) {
				t.Errorf("host ls lacks %q:\n%s", want, out)
			}
		}
		var hosts []hostRow
		c.json(t, &hosts, "host", "ls")
		if len(hosts) != 2 || hosts[0].Uptime == "" {
			t.Fatalf("host ls -o json: %+v", hosts)
		}
	})

	var art lattice.Artifact
	t.Run("push", func(t *testing.T) {
		out, errOut, err := c.run("push", echo)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "echo:r1") || !strings.Contains(out, "sha256:") {
			t.Errorf("push prints no ref and digest:\n%s", out)
		}
		if !strings.Contains(errOut, "bytes (100%)") {
			t.Errorf("push shows no progress on stderr:\n%s", errOut)
		}
		c.json(t, &art, "push", echo)
		if art.Ref != "echo:r1" || !strings.HasPrefix(art.Digest, "sha256:") {
			t.Fatalf("push -o json: %+v", art)
		}
	})

	t.Run("actor start lands on the host the constraint names", func(t *testing.T) {
		_, errOut, err := c.run("actor", "start", "echo:r1", "--constraint", "zone=edge")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"auction", "starting echo:r1 on host " + short(edge.ID())} {
			if !strings.Contains(errOut, want) {
				t.Errorf("progress lacks %q:\n%s", want, errOut)
			}
		}
		var ai lattice.ActorInfo
		c.json(t, &ai, "actor", "start", art.Digest, "--host", edge.ID()[:6], "--instances", "2")
		if ai.HostID != edge.ID() || ai.Instances != 3 {
			t.Fatalf("second start on the edge host: %+v; want 1+2 instances there", ai)
		}
	})

	t.Run("call", func(t *testing.T) {
		for _, name := range []string{"echo", "parrot", art.ActorID} {
			if out := c.ok(t, "call", name, "Echo", "hi "+name); out != "hi "+name {
				t.Errorf("call %s: %q", name, out)
			}
		}
		// --json sends MessagePack; -o json shows binary as base64.
		var res struct {
			Response []byte `json:"response"`
		}
		c.json(t, &res, "call", "echo", "Echo", "--json", `{"a":1}`)
		var back map[string]any
		if err := msgpack.Unmarshal(res.Response, &back); err != nil || back["a"] != 1.0 {
			t.Errorf("call --json: response %q (%v), want the MessagePack of {a:1}", res.Response, err)
		}
	})

	t.Run("actor ls and scale", func(t *testing.T) {
		var rows []actorRow
		c.json(t, &rows, "actor", "ls")
		if len(rows) != 1 || rows[0].Name != "echo" || rows[0].Invocations < 4 || rows[0].Instances != 3 {
			t.Fatalf("actor ls: %+v", rows)
		}
		out := c.ok(t, "actor", "scale", "parrot", "5")
		if !strings.Contains(out, "INVOCATIONS") || !strings.Contains(out, short(edge.ID())+"  5") {
			t.Errorf("actor scale:\n%s", out)
		}
		// A local file as REF is pushed first; the hub is the least loaded.
		_, errOut, err := c.run("actor", "start", echo, "--constraint", "zone=cloud")
		if err != nil || !strings.Contains(errOut, "pushing "+echo) {
			t.Fatalf("start from a file: %v\n%s", err, errOut)
		}
		out = c.ok(t, "actor", "ls")
		if strings.Count(out, art.ActorID) != 2 {
			t.Errorf("actor ls after a start on a second host:\n%s", out)
		}
	})

	t.Run("link put, ls, del", func(t *testing.T) {
		out := c.ok(t, "link", "put", "parrot", "spore:logging", "level=debug", "note=a=b")
		if !strings.Contains(out, "echo") || !strings.Contains(out, "level=debug,note=a=b") {
			t.Errorf("link put:\n%s", out)
		}
		var links []linkRow
		c.json(t, &links, "link", "ls")
		if len(links) != 1 || links[0].ActorID != art.ActorID || links[0].Provider != "logging" || links[0].ActorName != "echo" {
			t.Fatalf("link ls: %+v", links)
		}
		c.ok(t, "link", "del", "echo", "spore:logging")
		if out := c.ok(t, "link", "ls"); strings.Contains(out, "logging") {
			t.Errorf("link ls after del:\n%s", out)
		}
	})

	t.Run("provider start, ls, stop", func(t *testing.T) {
		var pi lattice.ProviderInfo
		c.json(t, &pi, "provider", "start", "logging", "--constraint", "zone=edge", "--link-name", "audit")
		if pi.HostID != edge.ID() || pi.Contract != "spore:logging" {
			t.Fatalf("provider start: %+v", pi)
		}
		if out := c.ok(t, "provider", "ls"); !regexp.MustCompile(`logging +spore:logging +` + short(edge.ID()) + ` +link_name=audit`).MatchString(out) {
			t.Errorf("provider ls:\n%s", out)
		}
		c.ok(t, "provider", "stop", "logging")
		var ps []lattice.ProviderInfo
		c.json(t, &ps, "provider", "ls")
		if len(ps) != 0 {
			t.Errorf("provider ls after stop: %+v", ps)
		}
	})

	t.Run("host label", func(t *testing.T) {
		c.ok(t, "host", "label", edge.ID()[:8], "gpu=yes")
		var res struct {
			Labels map[string]string `json:"labels"`
		}
		c.json(t, &res, "host", "label", edge.ID()[:8], "gpu", "--remove")
		if _, ok := res.Labels["gpu"]; ok || res.Labels["zone"] != "edge" {
			t.Errorf("labels after --remove gpu: %v", res.Labels)
		}
	})

	t.Run("events", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, errOut, wait := c.start(ctx, "events", "--type", "actor_*", "--actor", "parrot", "--count", "2")
		testkit.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if !strings.Contains(errOut.String(), "watching") {
				return fmt.Errorf("events is not watching yet: %s", errOut)
			}
			return nil
		})
		c.ok(t, "actor", "stop", "echo") // on both hosts: two actor_stopped events
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "actor_stopped") || !strings.Contains(lines[1], "name=echo") {
			t.Fatalf("events:\n%s", out)
		}
		var rows []actorRow
		c.json(t, &rows, "actor", "ls")
		if len(rows) != 0 {
			t.Errorf("actor ls after stop: %+v", rows)
		}
	})

	t.Run("events -o json", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, _, wait := c.start(ctx, "events", "--type", "labels_changed", "--count", "1", "-o", "json")
		testkit.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
			// Labels change until the watch sees one.
			c.ok(t, "host", "label", hub.ID(), "tick=1")
			if out.String() == "" {
				return errors.New("no event yet")
			}
			return nil
		})
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		var ev lattice.Event
		if err := json.Unmarshal([]byte(strings.TrimSpace(out.String())), &ev); err != nil || ev.Type != "dev.spore.labels_changed" {
			t.Fatalf("events -o json: %v\n%s", err, out)
		}
	})
}

func TestCommandErrors(t *testing.T) {
	hub := startHub(t, nil)
	c := newCLI(t, hub.ClientURL())
	c.ok(t, "push", echoFile(t))
	c.ok(t, "actor", "start", "echo:r1")
	missing := filepath.Join(t.TempDir(), "missing.wasm")
	tests := []struct {
		name  string
		args  []string
		usage bool // exit code 2
		want  string
	}{
		{"missing artifact", []string{"actor", "start", "nothing:1"}, false, `no artifact "nothing:1" in the lattice: push it with 'spore push'`},
		{"missing file", []string{"actor", "start", missing}, false, "no such file"},
		{"no host matches", []string{"actor", "start", "echo:r1", "--constraint", "zone=moon"}, false, "satisfies the constraints zone=moon"},
		{"zero instances", []string{"actor", "start", "echo:r1", "--instances", "0"}, true, "--instances 0"},
		{"host and constraint", []string{"actor", "start", "echo:r1", "--host", "N", "--constraint", "a=b"}, true, "give one"},
		{"bad constraint", []string{"actor", "start", "echo:r1", "--constraint", "zone"}, true, "want key=value"},
		{"bad scale", []string{"actor", "scale", "echo", "many"}, true, `instance count "many"`},
		{"unknown actor", []string{"actor", "stop", "nobody"}, false, `no actor named "nobody"`},
		{"unknown host", []string{"host", "stop", "NZZZ"}, false, `no host "NZZZ"`},
		{"call without operation", []string{"call", "echo"}, true, "wrong number of arguments"},
		{"call with two payloads", []string{"call", "echo", "Echo", "x", "--json", "1"}, true, "not both"},
		{"bad link value", []string{"link", "put", "echo", "spore:logging", "level"}, true, "want key=value"},
		{"not a contract", []string{"link", "put", "echo", "logging"}, false, "not a contract id"},
		{"no such link", []string{"link", "del", "echo", "spore:keyvalue"}, false, "no link"},
		{"unknown provider", []string{"provider", "start", "teleporter"}, false, "teleporter"},
		{"bad event pattern", []string{"events", "--type", "["}, true, "--type"},
		{"unknown flag", []string{"host", "ls", "--bogus"}, true, "unknown flag"},
		{"unknown subcommand", []string{"actor", "bogus"}, true, `unknown command "bogus"`},
		{"bad output", []string{"host", "ls", "-o", "yaml"}, true, "want table or json"},
		{"bad cluster seed", []string{"host", "ls", "--cluster-seed", "bogus"}, true, "--cluster-seed"},
		{"nats and leaf", []string{"up", "--nats", "nats://127.0.0.1:1", "--leaf", "nats-leaf://127.0.0.1:2"}, true, "--nats and --leaf"},
		{"join with listen", []string{"up", "--nats", "nats://127.0.0.1:1", "--nats-listen", "127.0.0.1:0"}, true, "runs no NATS server"},
		{"bad label", []string{"up", "--label", "x"}, true, "--label"},
		{"no lattice there", []string{"host", "ls", "--nats", "nats://127.0.0.1:1"}, false, "start one with 'spore up'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.run(tt.args...)
			if err == nil {
				t.Fatalf("spore %s: no error", strings.Join(tt.args, " "))
			}
			var ue usageError
			if errors.As(err, &ue) != tt.usage {
				t.Errorf("usage error = %v, want %v: %v", !tt.usage, tt.usage, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

// upInfoOf waits for the object spore up -o json prints when ready.
func upInfoOf(t *testing.T, out, errOut *testkit.Buffer) upInfo {
	t.Helper()
	var info upInfo
	testkit.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if err := json.Unmarshal([]byte(out.String()), &info); err != nil {
			return fmt.Errorf("up is not ready: %v\nstderr: %s", err, errOut)
		}
		return nil
	})
	return info
}

func TestUp(t *testing.T) {
	c := newCLI(t, "nats://127.0.0.1:1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	out, errOut, wait := c.start(ctx, "up", "-o", "json", "--nats-listen", "127.0.0.1:0", "--leaf-listen", "127.0.0.1:0",
		"--data-dir", dir, "--label", "zone=lab", "--heartbeat", "500ms")
	hub := upInfoOf(t, out, errOut)
	if hub.Mode != "embedded" || hub.Labels["zone"] != "lab" || hub.DataDir != dir ||
		!strings.HasPrefix(hub.NATSURL, "nats://127.0.0.1:") || !strings.HasPrefix(hub.LeafURL, "nats-leaf://127.0.0.1:") {
		t.Fatalf("up: %+v", hub)
	}
	c.url = hub.NATSURL

	// A second host joins; stopping it over the lattice ends its 'up'.
	jctx, jcancel := context.WithCancel(context.Background())
	defer jcancel()
	jout, jerr, jwait := c.start(jctx, "up", "-o", "json", "--nats", hub.NATSURL)
	joined := upInfoOf(t, jout, jerr)
	if joined.Mode != "joined" || joined.Upstream != hub.NATSURL || joined.LeafURL != "" {
		t.Fatalf("up --nats: %+v", joined)
	}
	var hosts []hostRow
	c.json(t, &hosts, "host", "ls")
	if len(hosts) != 2 {
		t.Fatalf("host ls: %d hosts, want 2", len(hosts))
	}
	for _, h := range hosts {
		if len(h.Providers) != 1 || h.Providers[0].Name != "logging" {
			t.Errorf("host %s runs %+v; up starts the logging provider", short(h.ID), h.Providers)
		}
	}
	c.ok(t, "host", "stop", joined.HostID)
	if err := jwait(); err != nil {
		t.Fatalf("joined up after host stop: %v", err)
	}
	// Ctrl-C (the context) stops the first.
	cancel()
	if err := wait(); err != nil {
		t.Fatalf("up after Ctrl-C: %v", err)
	}
}

func TestExplicitClusterSeed(t *testing.T) {
	c := newCLI(t, "")
	var key struct {
		SeedFile string `json:"seed_file"`
	}
	c.json(t, &key, "keys", "gen", "cluster", "--out", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut, wait := c.start(ctx, "up", "-o", "json", "--lattice", "secure", "--cluster-seed", key.SeedFile,
		"--nats-listen", "127.0.0.1:0", "--leaf-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	hub := upInfoOf(t, out, errOut)
	c.url = hub.NATSURL
	defer func() { cancel(); wait() }()

	// The control interface needs no key; the lattice state does.
	var hosts []hostRow
	c.json(t, &hosts, "host", "ls", "--lattice", "secure")
	if len(hosts) != 1 {
		t.Fatalf("host ls: %+v", hosts)
	}
	_, _, err := c.run("link", "ls", "--lattice", "secure")
	if err == nil || !strings.Contains(err.Error(), "pass --cluster-seed") {
		t.Fatalf("link ls without the seed: %v", err)
	}
	seed, err := os.ReadFile(key.SeedFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{key.SeedFile, strings.TrimSpace(string(seed))} {
		if _, errOut, err := c.run("link", "ls", "--lattice", "secure", "--cluster-seed", flag); err != nil {
			t.Fatalf("link ls --cluster-seed %s: %v\n%s", flag, err, errOut)
		}
	}
}
