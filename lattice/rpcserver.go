package lattice

import (
	"context"
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
	in   chan *nats.Msg
	end  rpcEnd
	idle atomic.Int32

	mu     sync.RWMutex
	routes map[string]*rpcRoute // by subscription subject
}

type rpcRoute struct {
	handle func(ctx context.Context, inv *Invocation) ([]byte, error)
}

// rpcWorkers is how many workers wait for invocations for the node's life.
const rpcWorkers = 32

// rpcQueueLen is how many invocations may wait for a worker; NATS drops
// more (a slow consumer), and their callers time out.
const rpcQueueLen = 64 << 10

func (n *Node) startWorkers() {
	n.rpc = &rpcServer{in: make(chan *nats.Msg, rpcQueueLen), end: n.rpcEnd(), routes: map[string]*rpcRoute{}}
	for range rpcWorkers {
		n.wg.Add(1)
		go n.rpcWorker(false)
	}
}

func (n *Node) rpcWorker(spare bool) {
	defer n.wg.Done()
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
				n.wg.Add(1)
				go n.rpcWorker(true)
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
