package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/signing"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

// sporeEnv is the environment of a spore process with SPORE_HOME=home,
// plus extra.
func sporeEnv(home string, extra ...string) []string {
	return testkit.SporeEnv(append([]string{"SPORE_HOME=" + home}, extra...)...)
}

// startProc starts 'spore args...' with SPORE_HOME=home.
func startProc(t *testing.T, name, home string, args ...string) *testkit.Proc {
	t.Helper()
	cmd := exec.Command(testkit.Spore(t), args...)
	cmd.Env = sporeEnv(home)
	return testkit.StartProc(t, name, cmd)
}

// startHost runs 'spore up -o json' with args and waits until it is ready.
func startHost(t *testing.T, name, home string, args ...string) *testkit.Host {
	t.Helper()
	cmd := exec.Command(testkit.Spore(t), append([]string{"up", "-o", "json"}, args...)...)
	cmd.Env = sporeEnv(home)
	return testkit.StartHost(t, name, 30*time.Second, cmd)
}

// cli runs spore commands against a lattice, as a user on this machine
// would, with its own SPORE_HOME.
type cli struct {
	bin  string
	url  string
	home string
}

func newCLI(t *testing.T, url string) *cli {
	return &cli{bin: testkit.Spore(t), url: url, home: t.TempDir()}
}

// at returns the same user pointed at another NATS URL.
func (c *cli) at(url string) *cli { return &cli{bin: c.bin, url: url, home: c.home} }

func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	return testkit.RunSpore(c.bin, sporeEnv(c.home, "SPORE_NATS="+c.url), time.Minute, args...)
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		t.Fatalf("spore %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// fails runs a command that must fail and returns its stderr.
func (c *cli) fails(t *testing.T, args ...string) string {
	t.Helper()
	_, errOut, err := c.run(args...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("spore %s: want a non-zero exit, got %v", strings.Join(args, " "), err)
	}
	return errOut
}

// json runs a command with -o json and decodes its stdout into v.
func (c *cli) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out := c.ok(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("spore %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// hostIDs lists the ids 'spore host ls' shows.
func (c *cli) hostIDs(t *testing.T) []string {
	t.Helper()
	var hosts []struct {
		ID string `json:"id"`
	}
	c.json(t, &hosts, "host", "ls")
	ids := make([]string, len(hosts))
	for i, h := range hosts {
		ids[i] = h.ID
	}
	return ids
}

// actors are the signed test actors, as files a user would push.
type actors struct {
	echoFile, callerFile string
	echoID, callerID     string
}

// writeActors signs echo.wat (answers every operation with its payload; it
// may be linked to an HTTP server) and hostcall.wat (calls the actor its operation names; it has the spore:actor
// claim) into files.
func writeActors(t *testing.T) actors {
	t.Helper()
	dir := t.TempDir()
	s := testkit.NewSigner(t)
	var a actors
	for _, x := range []struct {
		wat, name string
		caps      []string
		file, id  *string
	}{
		{"host/testdata/echo.wat", "echo", []string{"spore:httpserver", "spore:logging"}, &a.echoFile, &a.echoID},
		{"host/testdata/hostcall.wat", "caller", []string{"spore:actor"}, &a.callerFile, &a.callerID},
	} {
		signed := s.Sign(t, testkit.WAT(t, x.wat), x.name, x.caps...)
		c, err := signing.Verify(signed, signing.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		*x.file, *x.id = filepath.Join(dir, x.name+".wasm"), c.ID
		if err := os.WriteFile(*x.file, signed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return a
}
