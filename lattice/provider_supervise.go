package lattice

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spore-run/spore"
)

// A host runs a provider out of process by starting `spore provider run
// NAME` (Options.ProviderCommand) and supervising it:
//
//   - The child learns the lattice from its environment (SPORE_NATS,
//     SPORE_LATTICE, SPORE_CLUSTER_SEED), never from its command line,
//     which other users of the machine can read.
//   - It prints "READY <id>" on stdout once it serves; StartProvider
//     returns then, or with the child's last words if it exits first.
//   - When it dies it is started again, after a pause that doubles from
//     250ms to 10s (and starts over once a child lived 30s). It applies
//     its links from the lattice state on every start.
//   - None outlives its host: Close stops it (SIGTERM, then SIGKILL after
//     5s); on Linux the kernel sends it SIGTERM if the host dies first
//     (Pdeathsig), and everywhere it exits when its stdin, a pipe from the
//     host, reaches EOF.

// Environment of a supervised provider process.
const (
	// EnvSupervised tells `spore provider run` that a host supervises it:
	// it prints the READY line and exits when its stdin closes.
	EnvSupervised = "SPORE_PROVIDER_SUPERVISED"
	// ReadyPrefix starts the line a supervised process prints when it
	// serves, followed by its id.
	ReadyPrefix = "READY "
)

const (
	procStartTimeout = 30 * time.Second
	procStopGrace    = 5 * time.Second
	procMinBackoff   = 250 * time.Millisecond
	procMaxBackoff   = 10 * time.Second
	procStableAfter  = 30 * time.Second
)

// providerProc is one provider run out of process, and its supervisor.
type providerProc struct {
	n        *Node
	name     string
	contract string
	ann      map[string]string

	mu       sync.Mutex
	cmd      *exec.Cmd
	childID  string
	restarts int
	stopping bool

	stop chan struct{} // closed to stop supervising
	done chan struct{} // closed when the supervisor returns
}

func (pp *providerProc) info() ProviderInfo {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	ann := copyMap(pp.ann)
	ann["process"] = "supervised"
	if pp.cmd != nil && pp.cmd.Process != nil {
		ann["pid"] = strconv.Itoa(pp.cmd.Process.Pid)
	}
	ann["restarts"] = strconv.Itoa(pp.restarts)
	if pp.childID != "" {
		ann["process_id"] = pp.childID
	}
	return ProviderInfo{Name: pp.name, Contract: pp.contract, HostID: pp.n.id, Annotations: ann}
}

// startProcess starts a supervised provider process and returns when it
// serves.
func (n *Node) startProcess(ctx context.Context, req StartProvider, contract string) (*ProviderInfo, error) {
	n.mu.Lock()
	if pp := n.procs[req.Name]; pp != nil {
		n.mu.Unlock()
		info := pp.info()
		return &info, nil
	}
	if n.closed {
		n.mu.Unlock()
		return nil, spore.Errorf(spore.CodeUnavailable, "lattice: provider %s: the host is stopping", req.Name)
	}
	n.mu.Unlock()
	if n.provs.Get(req.Name) != nil {
		return nil, spore.Errorf(spore.CodeBadRequest, "lattice: provider %s runs in this host's process; stop it first", req.Name)
	}
	pp := &providerProc{n: n, name: req.Name, contract: contract, ann: copyMap(req.Annotations),
		stop: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan error, 1)
	go pp.supervise(ready)
	select {
	case err := <-ready:
		if err != nil {
			<-pp.done
			return nil, spore.Errorf(spore.CodeInternal, "lattice: provider %s out of process: %v", req.Name, err)
		}
	case <-ctx.Done():
		pp.shutdown()
		return nil, ctx.Err()
	}
	n.mu.Lock()
	if n.closed || n.procs[req.Name] != nil {
		n.mu.Unlock()
		pp.shutdown()
		return nil, spore.Errorf(spore.CodeUnavailable, "lattice: provider %s: the host is stopping or started it twice", req.Name)
	}
	n.procs[req.Name] = pp
	n.mu.Unlock()
	info := pp.info()
	n.event(EvtProviderStarted, info)
	n.log.Info("provider started out of process", "provider", req.Name, "pid", info.Annotations["pid"])
	return &info, nil
}

// stopProcess stops the named out-of-process provider, reporting whether
// there was one.
func (n *Node) stopProcess(name string) bool {
	n.mu.Lock()
	pp := n.procs[name]
	delete(n.procs, name)
	n.mu.Unlock()
	if pp == nil {
		return false
	}
	info := pp.info()
	pp.shutdown()
	n.event(EvtProviderStopped, info)
	return true
}

// stopProcesses stops every out-of-process provider.
func (n *Node) stopProcesses() {
	n.mu.Lock()
	names := make([]string, 0, len(n.procs))
	for name := range n.procs {
		names = append(names, name)
	}
	n.mu.Unlock()
	for _, name := range names {
		n.stopProcess(name)
	}
}

// shutdown stops supervising and ends the child.
func (pp *providerProc) shutdown() {
	pp.mu.Lock()
	if !pp.stopping {
		pp.stopping = true
		close(pp.stop)
	}
	cmd := pp.cmd
	pp.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = terminate(cmd.Process)
	}
	select {
	case <-pp.done:
	case <-time.After(procStopGrace):
		if cmd != nil && cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
		<-pp.done
	}
}

// supervise runs the child until told to stop, starting it again when it
// dies. The first start's outcome goes to ready; if it fails, supervise
// gives up.
func (pp *providerProc) supervise(ready chan<- error) {
	defer close(pp.done)
	backoff := procMinBackoff
	for first := true; ; first = false {
		began := time.Now()
		var r chan<- error
		if first {
			r = ready
		}
		served, err := pp.runOnce(r)
		if first && !served {
			return
		}
		select {
		case <-pp.stop:
			return
		default:
		}
		pp.n.log.Warn("provider process exited; starting it again", "provider", pp.name, "err", err, "pause", backoff)
		pp.n.event(EvtProviderStopped, pp.info())
		if time.Since(began) > procStableAfter {
			backoff = procMinBackoff
		}
		select {
		case <-time.After(backoff):
		case <-pp.stop:
			return
		}
		backoff = min(2*backoff, procMaxBackoff)
		pp.mu.Lock()
		pp.restarts++
		pp.mu.Unlock()
	}
}

// runOnce starts the child and waits until it exits. It reports whether
// the child came to serve; ready, when not nil, hears the start's outcome.
func (pp *providerProc) runOnce(ready chan<- error) (served bool, err error) {
	say := func(err error) {
		if ready != nil {
			ready <- err
			ready = nil
		}
	}
	// Pdeathsig belongs to the thread that forks: keep this goroutine on
	// one thread until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd, err := pp.command()
	if err != nil {
		say(err)
		return false, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		say(err)
		return false, err
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		say(err)
		return false, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		say(err)
		return false, err
	}
	pp.mu.Lock()
	if pp.stopping {
		pp.mu.Unlock()
		say(errors.New("stopping"))
		return false, nil
	}
	err = cmd.Start()
	if err == nil {
		pp.cmd = cmd
	}
	pp.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("start %s: %w", strings.Join(cmd.Args, " "), err)
		say(err)
		return false, err
	}
	tail := &lastLines{max: 20}
	logged := make(chan struct{})
	go func() { // the child's log joins the host's
		defer close(logged)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			tail.add(sc.Text())
			pp.n.log.Info(sc.Text(), "provider", pp.name, "stream", "stderr")
		}
	}()
	readyLine := make(chan string, 1)
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), ReadyPrefix); ok {
				select {
				case readyLine <- strings.TrimSpace(id):
				default:
				}
			}
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-logged
		<-read // Wait closes the pipes: read them out first
		exited <- cmd.Wait()
	}()
	timer := time.NewTimer(procStartTimeout)
	defer timer.Stop()
	select {
	case id := <-readyLine:
		served = true
		pp.mu.Lock()
		pp.childID = id
		pp.mu.Unlock()
		say(nil)
		err = <-exited
	case err = <-exited:
		say(fmt.Errorf("exited before serving (%v): %s", err, tail.String()))
	case <-timer.C:
		_ = cmd.Process.Kill()
		err = <-exited
		say(fmt.Errorf("not serving after %s: %s", procStartTimeout, tail.String()))
	}
	pp.mu.Lock()
	pp.cmd = nil
	pp.mu.Unlock()
	return served, err
}

// command builds the child's command: the lattice in its environment.
func (pp *providerProc) command() (*exec.Cmd, error) {
	args := pp.n.opts.ProviderCommand
	if len(args) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the spore executable: %w", err)
		}
		args = []string{exe, "provider", "run"}
	}
	cmd := exec.Command(args[0], append(append([]string(nil), args[1:]...), pp.name)...)
	url := pp.n.opts.NATSURL
	if url == "" {
		url = pp.n.ClientURL()
	}
	cmd.Env = append(os.Environ(),
		"SPORE_NATS="+url,
		"SPORE_LATTICE="+pp.n.opts.Lattice,
		"SPORE_CLUSTER_SEED="+pp.n.opts.ClusterSeed,
		EnvSupervised+"=1",
		"SPORE_PROVIDER_HOST="+pp.n.id,
	)
	setParentDeathSignal(cmd)
	return cmd, nil
}

// lastLines keeps the last lines of a stream, for errors.
type lastLines struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (l *lastLines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	if len(l.lines) > l.max {
		l.lines = l.lines[1:]
	}
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "(no output)"
	}
	return strings.Join(l.lines, "\n")
}
