package lattice

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// rpcServer runs the invocations a node serves. Every RPC subscription of
// the node delivers into one channel, and idle workers take from it
// directly, so nats.go's reader hands a message to the goroutine that runs
// it in one step, as it does to a plain subscription's goroutine. A callback
// subscription would add a step, its own goroutine, because the handler
// cannot run there: an actor that calls out and waits would hold up every
// other call to it.
//
// rpcWorkers workers live as long as the node, so their stacks stay grown
// for wazero. When the last idle worker takes a message, it starts a spare
// first, up to maxInflight more, so a handler that waits (on an instance, on
// a call of its own, perhaps back to this host) never holds up the rest.
// Spares end when they finish and find another worker idle.
type rpcServer struct {
	in      chan *nats.Msg
	end     rpcEnd
	idle    atomic.Int32
	workers sync.WaitGroup

	mu     sync.RWMutex
	routes map[string]*rpcRoute // by subscription subject
}

type rpcRoute struct {
	handle func(ctx context.Context, inv *Invocation) ([]byte, error)
}

// rpcWorkers is how many workers wait for invocations for the node's life;
// when every one is busy, the one taking the next message starts a spare
// (up to maxInflight), so slow actors do not queue behind each other. Few
// standing workers is faster than many: a worker that finds the next
// message waiting takes it without sleeping, and its answers leave in one
// write. With 16 calls in flight (BenchmarkRPC) 4 workers took 43-47 µs of
// CPU per actor-to-actor call and half the socket writes of 32 workers,
// which took 55 µs.
const rpcWorkers = 4

// rpcQueueLen is how many invocations may wait for a worker; NATS drops
// more (a slow consumer), and their callers time out.
const rpcQueueLen = 64 << 10

func (n *Node) startWorkers() {
	s := &rpcServer{in: make(chan *nats.Msg, rpcQueueLen), end: n.rpcEnd(), routes: map[string]*rpcRoute{}}
	n.rpc = s
	rc, err := replyConn(n.nc)
	if err != nil {
		n.log.Warn("results of invocations share the lattice connection", "err", err)
	}
	s.end.replies = rc
	for range rpcWorkers {
		n.startWorker(false)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		<-n.ctx.Done()
		s.workers.Wait()
		if rc != nil {
			_ = rc.Flush()
			rc.Close()
		}
	}()
}

// replyConn opens a second connection, with nc's options, that carries the
// results of the invocations a host serves. On one connection, the
// goroutines answering would wait for the lock nats.go's flusher holds
// while it writes, and the reader would share the socket with them; apart,
// the answers cost about 5% less CPU per call in BenchmarkRPC.
func replyConn(nc *nats.Conn) (*nats.Conn, error) {
	o := nc.Opts
	o.Name += " (results)"
	// The lattice connection's handlers already log its losses.
	o.DisconnectedErrCB, o.ReconnectedCB, o.ClosedCB = nil, nil, nil
	rc, err := o.Connect()
	if err != nil {
		return nil, fmt.Errorf("lattice: connection for results: %w", err)
	}
	return rc, nil
}

func (n *Node) startWorker(spare bool) {
	n.wg.Add(1)
	n.rpc.workers.Add(1)
	go n.rpcWorker(spare)
}

func (n *Node) rpcWorker(spare bool) {
	defer n.wg.Done()
	defer n.rpc.workers.Done()
	if spare {
		defer func() { <-n.inflight }()
	}
	s := n.rpc
	for {
		s.idle.Add(1)
		var m *nats.Msg
		select {
		case m = <-s.in:
		case <-n.ctx.Done():
			return
		}
		if s.idle.Add(-1) == 0 {
			select {
			case n.inflight <- struct{}{}:
				n.startWorker(true)
			default:
			}
		}
		s.mu.RLock()
		r := s.routes[m.Sub.Subject]
		s.mu.RUnlock()
		if r != nil { // else unsubscribed since the message came
			s.end.serve(m, r.handle)
		}
		if spare && s.idle.Load() > 0 {
			return
		}
	}
}

// serveInvocations subscribes a handler to an RPC subject in a queue group.
func (n *Node) serveInvocations(subject, queue string, handle func(ctx context.Context, inv *Invocation) ([]byte, error)) (*nats.Subscription, error) {
	s, r := n.rpc, &rpcRoute{handle}
	s.mu.Lock()
	s.routes[subject] = r
	s.mu.Unlock()
	forget := func(string) {
		s.mu.Lock()
		if s.routes[subject] == r {
			delete(s.routes, subject)
		}
		s.mu.Unlock()
	}
	sub, err := n.nc.ChanQueueSubscribe(subject, queue, s.in)
	if err != nil {
		forget(subject)
		return nil, err
	}
	// nats.go calls it when the subscription ends (unsubscribed, drained,
	// or the connection closed), with its own locks held: forget takes
	// only s.mu, which is never held while calling nats.go.
	sub.SetClosedHandler(forget)
	return sub, nil
}
