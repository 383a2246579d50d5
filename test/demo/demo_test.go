// Package demo runs the README's main command, scripts/demo.sh, as a user
// would, so it keeps working in every commit.
package demo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spore-run/spore/internal/testkit"
)

func TestDemo(t *testing.T) {
	root := testkit.Root()
	cmd := exec.Command(filepath.Join(root, "scripts", "demo.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DEMO_EXIT=1", "DEMO_PORT="+strconv.Itoa(testkit.FreePort(t)), "DEMO_NATS_PORT="+strconv.Itoa(testkit.FreePort(t)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/demo.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"Hello from Spore!", "Hello, spore! You asked for GET /hi."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo did not answer %q:\n%s", want, out)
		}
	}
}
