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
// call is filed in one of several maps with locks of their own, and its
// slot (subject and channel) is reused, so a call allocates nothing.
type replies struct {
	nc     *nats.Conn
	sub    *nats.Subscription
	prefix string // the inbox, ending in "."
	slots  atomic.Uint64
	shards [replyShards]struct {
		sync.Mutex
		calls map[uint64]*waiting // by slot
	}
	free sync.Pool     // idle *waiting: their subjects are reused
	gone chan struct{} // closed when the subscription ends
}

// replyShards spreads the calls over this many maps and locks.
const replyShards = 16

// waiting is a call's slot in the inbox: the reply subject
// <prefix><slot in base 36>, made once, and a channel for the answer. Slots
// serve call after call, so an answer reaches the call in the slot only if
// it names the call's invocation id: one that comes late, or twice, finds
// nobody. (A reply subject per call would do that too, but with one
// BenchmarkRPC made 0.61 of raw NATS's calls/s, with slots 0.73.)
type waiting struct {
	slot  uint64
	reply string
	id    string // of the invocation waiting
	ch    chan *nats.Msg
}

func newReplies(nc *nats.Conn) (*replies, error) {
	r := &replies{nc: nc, prefix: nats.InboxPrefix + nuid.Next() + ".", gone: make(chan struct{})}
	for i := range r.shards {
		r.shards[i].calls = map[uint64]*waiting{}
	}
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
	slot, err := strconv.ParseUint(m.Subject[len(r.prefix):], 36, 64)
	if err != nil {
		return
	}
	// The server's no-responders status answers the publish it follows,
	// and carries no id.
	status := len(m.Data) == 0 && m.Header.Get("Status") == "503"
	id := resultID(m.Data)
	sh := &r.shards[slot%replyShards]
	sh.Lock()
	w := sh.calls[slot]
	if w == nil || (!status && string(id) != w.id) {
		sh.Unlock()
		return // for a call that gave up, or a stale answer
	}
	delete(sh.calls, slot)
	sh.Unlock()
	w.ch <- m // it has room: one answer per call
}

// take removes the call waiting in slot, and returns it if it was there.
func (r *replies) take(slot uint64) *waiting {
	sh := &r.shards[slot%replyShards]
	sh.Lock()
	w := sh.calls[slot]
	if w != nil {
		delete(sh.calls, slot)
	}
	sh.Unlock()
	return w
}

func (r *replies) slot() *waiting {
	if w, ok := r.free.Get().(*waiting); ok {
		return w
	}
	slot := r.slots.Add(1)
	return &waiting{slot: slot, reply: r.prefix + strconv.FormatUint(slot, 36), ch: make(chan *nats.Msg, 1)}
}

// request publishes data, the invocation id, to subject and waits for the
// result naming id, like nats.Conn.Request: until ctx ends or, when
// deadlineOnly says ctx can end at nothing but its deadline, until
// deadline, on a pooled timer, so that the context's own timer is never
// made.
func (r *replies) request(ctx context.Context, subject, id string, data []byte, deadline time.Time, deadlineOnly bool) (*nats.Msg, error) {
	w := r.slot()
	w.id = id
	sh := &r.shards[w.slot%replyShards]
	sh.Lock()
	sh.calls[w.slot] = w
	sh.Unlock()
	if err := r.nc.PublishRequest(subject, w.reply, data); err != nil {
		r.forget(w)
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
		r.free.Put(w)
		// With no subscriber on subject, the server answers at once with
		// an empty message and this status.
		if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
			return nil, nats.ErrNoResponders
		}
		return m, nil
	case <-timeout:
		if m := r.forget(w); m != nil {
			return m, nil
		}
		return nil, nats.ErrTimeout
	case <-done:
		if m := r.forget(w); m != nil {
			return m, nil
		}
		return nil, ctx.Err()
	case <-r.gone:
		r.forget(w)
		return nil, nats.ErrConnectionClosed
	}
}

// forget withdraws a call that stops waiting. If its answer is already on
// the way, it waits for it and returns it. Either way the slot is empty
// after, and serves the next call.
func (r *replies) forget(w *waiting) *nats.Msg {
	var m *nats.Msg
	if r.take(w.slot) == nil {
		m = <-w.ch
	}
	r.free.Put(w)
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
