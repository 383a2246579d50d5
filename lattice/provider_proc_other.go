//go:build !linux

package lattice

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// setParentDeathSignal does nothing here: the child exits when its stdin,
// a pipe from the host, reaches EOF, which it does when the host dies.
func setParentDeathSignal(*exec.Cmd) {}

func terminate(p *os.Process) error {
	if runtime.GOOS == "windows" {
		return p.Kill()
	}
	return p.Signal(syscall.SIGTERM)
}
