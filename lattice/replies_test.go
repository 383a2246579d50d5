package lattice

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestReplies: each call gets its own answer, including the call after one
// that gave up on a late answer; a subject nobody serves fails at once; a
// closed connection ends the calls waiting on it.
func TestReplies(t *testing.T) {
	s, err := StartServer(ServerOptions{Listen: "127.0.0.1:-1", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	responder, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(responder.Close)
	_, _ = responder.Subscribe("echo", func(m *nats.Msg) { _ = m.Respond(m.Data) })
	_, _ = responder.Subscribe("slow", func(m *nats.Msg) {
		time.Sleep(200 * time.Millisecond)
		_ = m.Respond([]byte("late"))
	})
	_, _ = responder.Subscribe("silent", func(*nats.Msg) {})
	if err := responder.Flush(); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	r, err := newReplies(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	call := func(subject, data string, d time.Duration) (string, error) {
		m, err := r.request(ctx, subject, []byte(data), time.Now().Add(d), true)
		if err != nil {
			return "", err
		}
		return string(m.Data), nil
	}

	if got, err := call("echo", "one", time.Second); got != "one" || err != nil {
		t.Fatalf("echo: %q, %v", got, err)
	}
	if _, err := call("slow", "x", 50*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("slow: %v, want a timeout", err)
	}
	deadline := time.Now().Add(400 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ { // while the late answer comes
		want := string(rune('a' + i%26))
		if got, err := call("echo", want, time.Second); got != want || err != nil {
			t.Fatalf("echo after a late answer: %q, %v; want %q", got, err, want)
		}
	}
	if _, err := call("nobody", "x", time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("nobody: %v, want no responders", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := r.request(cctx, "silent", nil, time.Time{}, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("canceled: %v, want the context's error", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := call("silent", "x", time.Minute)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	nc.Close()
	select {
	case err := <-done:
		if !errors.Is(err, nats.ErrConnectionClosed) {
			t.Fatalf("after close: %v, want connection closed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a call outlived its connection")
	}
}
