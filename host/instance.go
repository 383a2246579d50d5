package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/spore-run/spore"
)

// instance is one instantiated module. Only the goroutine that took it from
// the pool touches it, except the watchdog, which only sets timedOut (or
// canceled) and closes stop.
type instance struct {
	actor     *Actor
	mod       api.Module
	guestCall api.Function
	memory    *cappedMemory
	stack     [2]uint64
	stripe    uint32 // which stripe of the actor's counters it adds to
	cell      uint32 // the pool cell it was last taken from
	cc        callCtx
	// deadlineNs is the running call's deadline in Unix nanoseconds, 0
	// when idle. The watchdog swaps it to 0 when it expires the call.
	deadlineNs atomic.Int64
	timeout    time.Duration // of the running call, for errors
	watched    bool
	watchIndex int // in the watchdog's list
	timedOut   atomic.Bool
	canceled   atomic.Bool // the caller gave up, rather than the deadline passing
	// caller is the running call's context, which the watchdog checks for
	// cancellation each tick; nil when idle.
	callerMu sync.Mutex
	caller   context.Context
	stop     chan struct{} // closed once, by expire; the instance is then discarded
	broken   bool
	outputs  [2]*guestWriter

	// The current invocation, valid while guestCall runs.
	op       string
	payload  []byte
	response []byte
	guestErr []byte
	hostResp []byte
	hostErr  []byte
	fault    error // the first ABI misuse, which also traps the call

	// The strings of the last host call, reused by the next one that
	// names the same (see readString).
	lastBinding, lastNamespace, lastOperation string
}

// callCtx is the context a guest call runs under. The host functions find
// their instance through it without an allocation per call. It ends only
// when the watchdog stops the instance (on a deadline or the caller's
// cancellation): see Done.
type callCtx struct {
	context.Context
	inst *instance
}

type instanceKey struct{}

func (c *callCtx) Value(k any) any {
	if k == (instanceKey{}) {
		return c.inst
	}
	return c.Context.Value(k)
}

// Done is the instance's stop channel, which only expire closes: host calls
// the guest made stop waiting on it. The guest's own code stops at its next
// yield (see yield).
func (c *callCtx) Done() <-chan struct{} { return c.inst.stop }

// Err reports why the instance was stopped.
func (c *callCtx) Err() error {
	select {
	case <-c.inst.stop:
		if c.inst.canceled.Load() {
			return context.Canceled
		}
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// Deadline is not reported: the watchdog keeps it.
func (c *callCtx) Deadline() (deadline time.Time, ok bool) { return }

func instanceOf(ctx context.Context) *instance {
	if cc, ok := ctx.(*callCtx); ok {
		return cc.inst
	}
	inst, _ := ctx.Value(instanceKey{}).(*instance)
	return inst
}

func newInstance(ctx context.Context, a *Actor) (*instance, error) {
	inst := &instance{actor: a, stop: make(chan struct{})}
	inst.cc.inst = inst
	inst.cc.Context = context.WithoutCancel(ctx)
	out := &guestWriter{log: a.host.log, actor: a, inst: inst, stream: "stdout"}
	errw := &guestWriter{log: a.host.log, actor: a, inst: inst, stream: "stderr"}
	inst.outputs = [2]*guestWriter{out, errw}
	// Real clocks and a real random source: wazero's defaults are fake
	// (deterministic) ones, which would make a guest's crypto/rand
	// predictable and its time.Now meaningless.
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(a.claims.Name).
		WithStdout(out).
		WithStderr(errw).
		WithRandSource(stoppableReader{inst}).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.sleep).
		WithStartFunctions()
	alloc := experimental.MemoryAllocatorFunc(func(capHint, _ uint64) experimental.LinearMemory {
		inst.memory = newCappedMemory(a.limits.MemoryLimit, capHint)
		return inst.memory
	})
	ictx := experimental.WithMemoryAllocator(&inst.cc, alloc)
	if a.host.watchdog != nil {
		a.host.watchdog.add(inst)
		inst.watched = true
	}
	// Instantiating runs the module's start section, if it has one, which
	// may loop like any code: it runs under the start functions' deadline.
	var mod api.Module
	err := inst.run(ctx, initTimeout(a.limits.Timeout), func() (err error) {
		mod, err = a.host.runtime.InstantiateModule(ictx, a.compiled, cfg)
		return err
	})
	if err != nil {
		if mod != nil {
			mod.Close(context.Background())
		}
		inst.close()
		return nil, inst.classify(fmt.Errorf("instantiate: %w", err))
	}
	inst.mod = mod
	inst.guestCall = mod.ExportedFunction("__guest_call")
	for _, name := range []string{"_initialize", "_start", "wapc_init"} {
		fn := mod.ExportedFunction(name)
		if fn == nil {
			continue
		}
		err := inst.run(ctx, initTimeout(inst.actor.limits.Timeout), func() error { _, err := fn.Call(&inst.cc); return err })
		var exit *sys.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 0 {
			err = fmt.Errorf("%s called proc_exit, which ends the instance; build the actor as a reactor (Go: -buildmode=c-shared) or export wapc_init", name)
		}
		if err != nil {
			inst.close()
			return nil, inst.classify(fmt.Errorf("%s: %w", name, err))
		}
		break
	}
	return inst, nil
}

// expire runs on the watchdog's goroutine when an invocation overruns, or
// on the caller's cancellation.
// Only the goroutine that wins the swap of deadlineNs calls it, so it runs at
// most once per instance.
func (inst *instance) expire() {
	inst.timedOut.Store(true)
	close(inst.stop)
}

// run calls f under the actor's deadline (or the caller's, if sooner) and
// aborts it if the caller cancels, within a watchdog tick.
func (inst *instance) run(ctx context.Context, timeout time.Duration, f func() error) error {
	if !inst.watched {
		return f()
	}
	w := inst.actor.host.watchdog
	inst.timeout = timeout
	d := w.now.Load() + int64(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.UnixNano() < d {
		d = dl.UnixNano()
		inst.timeout = time.Duration(d - w.now.Load()).Round(time.Millisecond) // the caller's, for errors
	}
	// The watchdog also stops the call within a tick of the caller
	// canceling: polling the context's Err costs the call two uncontended
	// locks, where context.AfterFunc would arm its timer and register with
	// its parent.
	inst.callerMu.Lock()
	inst.caller = ctx
	inst.callerMu.Unlock()
	inst.deadlineNs.Store(d)
	err := f()
	inst.callerMu.Lock()
	inst.caller = nil
	inst.callerMu.Unlock()
	if !inst.deadlineNs.CompareAndSwap(d, 0) {
		// The watchdog stopped the call: the guest yielded into the stop,
		// or returned after its deadline (say, when the host call it waited
		// on gave up). Either way the answer is late; classify says why,
		// once the watchdog has said it (it marks the instance after it
		// takes the deadline).
		<-inst.stop
		inst.broken = true
		if err == nil {
			err = errStopped
		}
	}
	return err
}

// sleep is the guest's clock sleep (WASI poll_oneoff): it ends early when
// the watchdog stops the instance, and the guest then stops at its next
// check. A guest may ask to sleep for centuries.
func (inst *instance) sleep(ns int64) {
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-inst.stop:
	}
}

// stoppableReader is the guest's random source (WASI random_get), which
// unwinds the guest once its instance is stopped.
type stoppableReader struct{ inst *instance }

func (r stoppableReader) Read(p []byte) (int, error) {
	r.inst.checkStopped()
	return rand.Read(p)
}

// MinInitTimeout is the least time an instance's start function
// (_initialize, _start or wapc_init) gets, whatever the invocation timeout:
// a language runtime's start-up is a one-off that a short per-call deadline
// should not cut, while a start function that loops is still stopped.
const MinInitTimeout = time.Minute

func initTimeout(call time.Duration) time.Duration { return max(call, MinInitTimeout) }

// deadline is the running call's deadline, or zero.
func (inst *instance) deadline() time.Time {
	if d := inst.deadlineNs.Load(); d != 0 {
		return time.Unix(0, d)
	}
	return time.Time{}
}

func (inst *instance) invoke(ctx context.Context, op string, payload []byte) ([]byte, error) {
	inst.op, inst.payload = op, payload
	inst.response, inst.guestErr, inst.fault = nil, nil, nil
	inst.outputs[1].first = ""
	inst.cc.Context = ctx
	inst.stack[0], inst.stack[1] = uint64(len(op)), uint64(len(payload))
	err := inst.run(ctx, inst.actor.limits.Timeout, func() error { return inst.guestCall.CallWithStack(&inst.cc, inst.stack[:]) })
	inst.op, inst.payload, inst.hostResp, inst.hostErr = "", nil, nil, nil
	inst.cc.Context = context.Background()
	if err != nil {
		return nil, inst.classify(err)
	}
	if inst.fault != nil {
		// The guest misused the ABI but did not trap (it ignored our panic?
		// cannot happen, but never hand back a half-written response).
		return nil, inst.classify(inst.fault)
	}
	if uint32(inst.stack[0]) != 1 {
		msg := string(inst.guestErr)
		if msg == "" {
			msg = "guest returned failure without an error message"
		}
		return nil, spore.Errorf(spore.CodeActorFailed, "%s: %s: %s: %w", inst.actor, op, msg, ErrGuest)
	}
	resp := inst.response
	inst.response = nil
	if resp == nil {
		resp = []byte{}
	}
	return resp, nil
}

// classify turns a failed call into an error naming the actor and the cause,
// and marks the instance broken: after a trap, an exit or a deadline its
// state cannot be trusted.
func (inst *instance) classify(err error) error {
	inst.broken = true
	a := inst.actor
	var code spore.Code
	var cause error
	var exit *sys.ExitError
	switch {
	case inst.canceled.Load():
		code, cause = spore.CodeTimeout, fmt.Errorf("%w: the caller stopped waiting", ErrDeadline)
	case inst.timedOut.Load():
		code, cause = spore.CodeTimeout, fmt.Errorf("%w (%s)", ErrDeadline, inst.timeout)
	case inst.fault != nil:
		code, cause = spore.CodeActorFailed, inst.fault
	case inst.memory != nil && inst.memory.refused:
		code, cause = spore.CodeActorFailed, fmt.Errorf("%w: limit of %d MiB per instance reached", ErrOutOfMemory, a.limits.MemoryLimit>>20)
	case errors.As(err, &exit):
		code, cause = spore.CodeActorFailed, fmt.Errorf("%w: exited with code %d", ErrTrap, exit.ExitCode())
	default:
		code, cause = spore.CodeActorFailed, fmt.Errorf("%w: %v", ErrTrap, trimTrace(err))
	}
	if said := inst.outputs[1].first; said != "" {
		cause = fmt.Errorf("%w (stderr: %s)", cause, said)
	}
	a.host.log.Warn("actor instance failed; replacing it", "actor", a.claims.Name, "id", a.claims.ID, "cause", cause.Error())
	return spore.NewError(code, fmt.Errorf("%s: %w", a, cause))
}

// trimTrace keeps the first line of a wazero error: the cause, not the Wasm
// stack trace, which goes to the debug log.
func trimTrace(err error) string {
	s := err.Error()
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

func (inst *instance) close() {
	if inst.watched {
		inst.actor.host.watchdog.remove(inst)
	}
	for _, w := range inst.outputs {
		if w != nil {
			w.flush()
		}
	}
	if inst.mod != nil {
		inst.mod.Close(context.Background())
	}
}

// guestWriter sends a guest's stdout or stderr to the host log, a record per
// line, tagged with the actor. Guests write in fragments (Go's runtime writes
// a panic a word at a time), so it buffers up to a newline, or maxLine.
type guestWriter struct {
	log    *slog.Logger
	actor  *Actor
	inst   *instance // stopped, it unwinds the guest writing
	stream string
	buf    []byte
	// first is the first line written since the last reset: on stderr,
	// usually the guest's own account of why it is about to trap.
	first string
}

const maxLine = 16 << 10

func (w *guestWriter) Write(p []byte) (int, error) {
	w.inst.checkStopped()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) >= maxLine {
				w.emit(w.buf)
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

// flush logs a partial last line, as when the instance ends.
func (w *guestWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = nil
	}
}

func (w *guestWriter) emit(line []byte) {
	if w.first == "" && len(line) > 0 {
		w.first = string(line)
	}
	w.log.Info(string(line), "actor", w.actor.claims.Name, "id", w.actor.claims.ID, "stream", w.stream)
}
