package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// watchdog enforces invocation deadlines for every instance of a host with
// one goroutine and a coarse clock, instead of a timer per call: an
// invocation then costs two atomic stores, not a clock read and a timer
// reset and stop. Deadlines are kept to within one tick, and so is a
// caller's cancellation, which it checks on each tick.
type watchdog struct {
	tick time.Duration
	now  atomic.Int64 // Unix nanoseconds, at most one tick old

	mu    sync.Mutex
	insts []*instance // each at its watchIndex: a tick walks a slice, not a map

	stop chan struct{}
	done chan struct{}
}

// watchdogTick is the deadline resolution.
const watchdogTick = 5 * time.Millisecond

func newWatchdog(tick time.Duration) *watchdog {
	w := &watchdog{tick: tick, stop: make(chan struct{}), done: make(chan struct{})}
	w.now.Store(time.Now().UnixNano())
	go w.run()
	return w
}

func (w *watchdog) run() {
	defer close(w.done)
	t := time.NewTicker(w.tick)
	defer t.Stop()
	var expired []*instance
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			n := now.UnixNano()
			w.now.Store(n)
			expired = expired[:0]
			w.mu.Lock()
			for _, inst := range w.insts {
				d := inst.deadlineNs.Load()
				if d == 0 {
					continue
				}
				canceled := false
				if n < d {
					inst.callerMu.Lock()
					caller := inst.caller
					inst.callerMu.Unlock()
					if caller == nil || caller.Err() == nil {
						continue
					}
					canceled = errors.Is(caller.Err(), context.Canceled)
				}
				if inst.take(d, canceled) {
					expired = append(expired, inst)
				}
			}
			w.mu.Unlock()
			for _, inst := range expired {
				inst.expire()
			}
		}
	}
}

func (w *watchdog) add(inst *instance) {
	w.mu.Lock()
	inst.watchIndex = len(w.insts)
	w.insts = append(w.insts, inst)
	w.mu.Unlock()
}

// remove drops an instance that add added; a second remove does nothing.
func (w *watchdog) remove(inst *instance) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i := inst.watchIndex; i < 0 || i >= len(w.insts) || w.insts[i] != inst {
		return
	}
	last := len(w.insts) - 1
	moved := w.insts[last]
	w.insts[inst.watchIndex] = moved
	moved.watchIndex = inst.watchIndex
	w.insts[last] = nil
	w.insts = w.insts[:last]
	inst.watchIndex = -1
}

// take claims an instance's running call, whose deadline is d, for
// stopping; canceled says the caller gave up rather than the deadline
// passing. Only the one that swaps the deadline to 0 stops the call, once.
func (inst *instance) take(d int64, canceled bool) bool {
	if !inst.deadlineNs.CompareAndSwap(d, 0) {
		return false
	}
	if canceled {
		inst.canceled.Store(true)
	}
	return true
}

// close stops the watchdog; it is safe to call twice. Guests still
// running are stopped first: nothing would stop them afterwards.
func (w *watchdog) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, inst := range w.insts {
		if d := inst.deadlineNs.Load(); d != 0 && inst.take(d, true) {
			inst.expire()
		}
	}
}
