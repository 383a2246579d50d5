package lattice

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// replies carries the results of the invocations sent on a connection back
// to the calls waiting for them: one wildcard subscription on an inbox of
// its own, and a reply subject per call under it, the scheme of nats.go's
// Request. Request files each call in a map under the connection's lock,
// which every publish, delivery and flush of the connection also takes:
// with 16 calls in flight they queued on it (BenchmarkRPC; see
// RATIONALE.md, "Results come back to an inbox of the caller's"). Here a
// call is filed in a sync.Map, and its channel is pooled.
type replies struct {
	nc     *nats.Conn
	sub    *nats.Subscription
	prefix string // the inbox, ending in "."
	seq    atomic.Uint64
	calls  sync.Map      // uint64 -> *waiting
	gone   chan struct{} // closed when the subscription ends
}

type waiting struct{ ch chan *nats.Msg }

var waitings = sync.Pool{New: func() any { return &waiting{ch: make(chan *nats.Msg, 1)} }}

func newReplies(nc *nats.Conn) (*replies, error) {
	r := &replies{nc: nc, prefix: nats.InboxPrefix + nuid.Next() + ".", gone: make(chan struct{})}
	sub, err := nc.Subscribe(r.prefix+"*", r.deliver)
	if err != nil {
		return nil, err
	}
	// nats.go calls it once, when the subscription ends: unsubscribed, or
	// its connection closed. Calls still waiting then fail at once.
	sub.SetClosedHandler(func(string) { close(r.gone) })
	r.sub = sub
	return r, nil
}

// close ends the subscription; calls still waiting fail.
func (r *replies) close() { _ = r.sub.Unsubscribe() }

func (r *replies) deliver(m *nats.Msg) {
	seq, err := strconv.ParseUint(m.Subject[len(r.prefix):], 36, 64)
	if err != nil {
		return
	}
	if w, ok := r.calls.LoadAndDelete(seq); ok {
		w.(*waiting).ch <- m // it has room: one answer per call
	}
}

// request publishes data to subject and waits for the answer, like
// nats.Conn.Request: until ctx ends or, when deadlineOnly says ctx can end
// at nothing but its deadline, until deadline, on a pooled timer, so that
// the context's own timer is never made.
func (r *replies) request(ctx context.Context, subject string, data []byte, deadline time.Time, deadlineOnly bool) (*nats.Msg, error) {
	seq := r.seq.Add(1)
	w := waitings.Get().(*waiting)
	r.calls.Store(seq, w)
	if err := r.nc.PublishRequest(subject, r.prefix+strconv.FormatUint(seq, 36), data); err != nil {
		r.forget(seq, w)
		return nil, err
	}
	var (
		done    <-chan struct{}
		timeout <-chan time.Time
	)
	if deadlineOnly {
		t := timers.get(time.Until(deadline))
		defer timers.put(t)
		timeout = t.C
	} else {
		done = ctx.Done()
	}
	select {
	case m := <-w.ch:
		waitings.Put(w)
		// With no subscriber on subject, the server answers at once with
		// an empty message and this status.
		if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
			return nil, nats.ErrNoResponders
		}
		return m, nil
	case <-timeout:
		if m := r.forget(seq, w); m != nil {
			return m, nil
		}
		return nil, nats.ErrTimeout
	case <-done:
		if m := r.forget(seq, w); m != nil {
			return m, nil
		}
		return nil, ctx.Err()
	case <-r.gone:
		r.forget(seq, w)
		return nil, nats.ErrConnectionClosed
	}
}

// forget withdraws a call; if its answer is already on its way, it waits
// for it and returns it, so that w goes back to the pool empty.
func (r *replies) forget(seq uint64, w *waiting) *nats.Msg {
	if _, ok := r.calls.LoadAndDelete(seq); ok {
		waitings.Put(w)
		return nil
	}
	m := <-w.ch
	waitings.Put(w)
	return m
}

// timers pools the timers that bound requests whose context has nothing
// but a deadline.
var timers timerPool

type timerPool struct{ p sync.Pool }

func (tp *timerPool) get(d time.Duration) *time.Timer {
	if t, ok := tp.p.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func (tp *timerPool) put(t *time.Timer) {
	t.Stop() // since Go 1.23 a stopped timer's channel is drained
	tp.p.Put(t)
}
