package lattice

import (
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// writeBehindServer gives a host's connections to its own embedded server: an
// in-memory pipe, as nats-server's InProcessConn makes, whose writes return
// at once, as a socket's do.
//
// A pipe's Write waits until the server's reader has taken the bytes, and
// nats.go's flusher writes holding the connection's lock, which every
// request, publish and delivered reply also takes: on a bare pipe they all
// queued behind the server's reader. Here a goroutine per connection carries
// the bytes to the pipe, and the flusher only hands them over.
type writeBehindServer struct{ s *server.Server }

func (p writeBehindServer) InProcessConn() (net.Conn, error) {
	c, err := p.s.InProcessConn()
	if err != nil {
		return nil, err
	}
	return newWriteBehind(c), nil
}

func newWriteBehind(c net.Conn) *writeBehind {
	w := &writeBehind{Conn: c, kick: make(chan struct{}, 1), room: make(chan struct{}, 1), done: make(chan struct{})}
	go w.pump()
	return w
}

// writeBehindMax is how many bytes may wait for the server's reader before
// Write blocks (nats.go writes at most its buffer or one message at a time).
const writeBehindMax = 4 << 20

type writeBehind struct {
	net.Conn
	kick chan struct{} // something to write, or closed
	room chan struct{} // the pump took what waited
	done chan struct{} // the pump ended

	mu      sync.Mutex
	pending []byte
	spare   []byte
	err     error
	closed  bool
}

func (w *writeBehind) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.pending) >= writeBehindMax && w.err == nil && !w.closed {
		w.mu.Unlock()
		<-w.room
		w.mu.Lock()
	}
	if w.err != nil || w.closed {
		err := w.err
		w.mu.Unlock()
		if err == nil {
			err = net.ErrClosed
		}
		return 0, err
	}
	w.pending = append(w.pending, p...)
	w.mu.Unlock()
	w.signal(w.kick)
	return len(p), nil
}

func (w *writeBehind) pump() {
	defer close(w.done)
	for range w.kick {
		for {
			w.mu.Lock()
			data := w.pending
			if len(data) == 0 {
				closed := w.closed
				w.mu.Unlock()
				if closed {
					return
				}
				break
			}
			w.pending, w.spare = w.spare[:0], nil
			w.mu.Unlock()
			w.signal(w.room)
			_, err := w.Conn.Write(data)
			w.mu.Lock()
			if cap(data) <= writeBehindMax {
				w.spare = data[:0]
			}
			if err != nil {
				w.err = err
			}
			w.mu.Unlock()
			if err != nil {
				w.signal(w.room)
				return
			}
		}
	}
}

func (*writeBehind) signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Close lets what waits reach the server, for as long as a second, and
// closes the pipe.
func (w *writeBehind) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal(w.kick)
	w.signal(w.room)
	select {
	case <-w.done:
	case <-time.After(time.Second):
	}
	return w.Conn.Close()
}

// SetWriteDeadline applies to nothing: writes return at once.
func (w *writeBehind) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets the read deadline only; see SetWriteDeadline.
func (w *writeBehind) SetDeadline(t time.Time) error { return w.Conn.SetReadDeadline(t) }
