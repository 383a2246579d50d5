package lattice

import (
	"os"
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel send the child SIGTERM when the
// thread that started it ends, so a provider process never outlives a host
// that died without a Close.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
