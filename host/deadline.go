package host

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// DeadlineContext is context.WithDeadline for an invocation's path: it
// reports its deadline at once, and Err works at once, but the timer behind
// Done is made only when something asks for Done. An invocation that finds
// a free instance and answers in time, the common case, then costs no
// timer, no allocation of one and no cancellation bookkeeping in the
// parent; the host's watchdog keeps the guest to the deadline without one.
// Call Cancel when the invocation is over.
//
//	ctx := host.NewDeadlineContext(parent, time.Now().Add(time.Second))
//	defer ctx.Cancel()
//	out, err := actor.Invoke(ctx, "Op", payload)
//
// Once armed (by Done), it defers to a context.WithDeadline made then, so
// that children find it and register with it as with any cancelable
// context.
type DeadlineContext struct {
	parent context.Context
	d      time.Time
	armed  atomic.Pointer[armedCtx]
	mu     sync.Mutex // serializes arming and Cancel
	done   bool       // Cancel was called
}

// NewDeadlineContext returns a context that ends at d, or sooner with
// parent.
func NewDeadlineContext(parent context.Context, d time.Time) *DeadlineContext {
	if cur, ok := parent.Deadline(); ok && cur.Before(d) {
		d = cur
	}
	return &DeadlineContext{parent: parent, d: d}
}

// DeadlineOnly reports the deadline of a DeadlineContext that can
// end only at that deadline (no parent of it can be canceled) and whose
// timer nothing has armed. A caller that would wait on its Done may instead
// wait with a timer of its own until then, and leave it unarmed.
func DeadlineOnly(ctx context.Context) (time.Time, bool) {
	c, ok := ctx.(*DeadlineContext)
	if !ok || c.armed.Load() != nil {
		return time.Time{}, false
	}
	if p, ok := c.parent.(*DeadlineContext); ok {
		if _, ok := DeadlineOnly(p); !ok {
			return time.Time{}, false
		}
	} else if c.parent.Done() != nil {
		return time.Time{}, false
	}
	return c.d, true
}

type armedCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *DeadlineContext) Deadline() (time.Time, bool) { return c.d, true }

func (c *DeadlineContext) Done() <-chan struct{} {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Done()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.armed.Load()
	if a == nil {
		a = &armedCtx{}
		a.ctx, a.cancel = context.WithDeadline(c.parent, c.d)
		if c.done {
			a.cancel()
		}
		c.armed.Store(a)
	}
	return a.ctx.Done()
}

func (c *DeadlineContext) Err() error {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err()
	}
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	switch {
	case done:
		return context.Canceled
	case !time.Now().Before(c.d):
		return context.DeadlineExceeded
	}
	return c.parent.Err()
}

func (c *DeadlineContext) Value(key any) any {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Value(key)
	}
	return c.parent.Value(key)
}

// Cancel ends the context, and stops its timer if it has one.
func (c *DeadlineContext) Cancel() {
	c.mu.Lock()
	c.done = true
	a := c.armed.Load()
	c.mu.Unlock()
	if a != nil {
		a.cancel()
	}
}

func (c *DeadlineContext) String() string { return "host.DeadlineContext(" + c.d.String() + ")" }
