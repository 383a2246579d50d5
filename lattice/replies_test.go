package lattice

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestReplies: each call gets its own answer, including the calls after one
// that gave up on a late answer and after one that was answered twice; an
// answer naming another invocation is not taken; a subject nobody serves
// fails at once; a closed connection ends the calls waiting on it.
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
	// The requests' data is their invocation id; results name it.
	answer := func(m *nats.Msg, id, payload string) {
		_ = m.Respond((&Result{ID: id, Payload: []byte(payload)}).appendMsgpack(nil))
	}
	_, _ = responder.Subscribe("echo", func(m *nats.Msg) { answer(m, string(m.Data), string(m.Data)) })
	_, _ = responder.Subscribe("slow", func(m *nats.Msg) {
		time.Sleep(200 * time.Millisecond)
		answer(m, string(m.Data), "late")
	})
	_, _ = responder.Subscribe("silent", func(*nats.Msg) {})
	_, _ = responder.Subscribe("wrong", func(m *nats.Msg) { answer(m, "another call", "forged") })
	for _, a := range []string{"first", "second"} { // two answers to one call
		_, _ = responder.Subscribe("twice", func(m *nats.Msg) {
			time.Sleep(20 * time.Millisecond)
			answer(m, string(m.Data), a)
		})
	}
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
	n := 0
	call := func(subject string, d time.Duration) (string, error) {
		n++
		id := "call" + strconv.Itoa(n)
		m, err := r.request(ctx, subject, id, []byte(id), time.Now().Add(d), true)
		if err != nil {
			return "", err
		}
		var res Result
		if err := res.decode(m.Data); err != nil {
			return "", err
		}
		if res.ID != id {
			t.Fatalf("call %s got the result of %s", id, res.ID)
		}
		return string(res.Payload), nil
	}
	echoes := func(d time.Duration) {
		t.Helper()
		for end := time.Now().Add(d); time.Now().Before(end); {
			if _, err := call("echo", time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}

	if got, err := call("echo", time.Second); got != "call1" || err != nil {
		t.Fatalf("echo: %q, %v", got, err)
	}
	if _, err := call("slow", 50*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("slow: %v, want a timeout", err)
	}
	echoes(300 * time.Millisecond) // while the late answer comes
	if got, err := call("twice", time.Second); (got != "first" && got != "second") || err != nil {
		t.Fatalf("twice: %q, %v", got, err)
	}
	echoes(100 * time.Millisecond) // while the second answer comes
	if got, err := call("wrong", 100*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("an answer naming another call: %q, %v; want a timeout", got, err)
	}
	if _, err := call("nobody", time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("nobody: %v, want no responders", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := r.request(cctx, "silent", "x", nil, time.Time{}, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("canceled: %v, want the context's error", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := r.request(ctx, "silent", "y", nil, time.Now().Add(time.Minute), true)
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
