package host_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
)

type ctxKey struct{}

func withDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	c := host.NewDeadlineContext(parent, d)
	return c, c.Cancel
}

// TestDeadlineContext: the lazy deadline context behaves as one from
// context.WithDeadline, whether or not its timer was ever armed.
func TestDeadlineContext(t *testing.T) {
	soon := func() time.Time { return time.Now().Add(50 * time.Millisecond) }
	later := func() time.Time { return time.Now().Add(time.Hour) }
	tests := []struct {
		name string
		// run gets the context and its cancel func, and the parent's cancel.
		run     func(ctx context.Context, cancel, cancelParent context.CancelFunc)
		d       func() time.Time
		wantErr error
	}{
		{"deadline passes, unarmed", func(ctx context.Context, _, _ context.CancelFunc) {
			testkit.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error { return errNil(ctx.Err()) })
		}, soon, context.DeadlineExceeded},
		{"deadline passes, armed", func(ctx context.Context, _, _ context.CancelFunc) { <-ctx.Done() }, soon, context.DeadlineExceeded},
		{"canceled, then armed", func(ctx context.Context, cancel, _ context.CancelFunc) { cancel(); <-ctx.Done() }, later, context.Canceled},
		{"armed, then canceled", func(ctx context.Context, cancel, _ context.CancelFunc) {
			done := ctx.Done()
			cancel()
			<-done
		}, later, context.Canceled},
		{"parent canceled, unarmed", func(ctx context.Context, _, cancelParent context.CancelFunc) { cancelParent() }, later, context.Canceled},
		{"parent canceled, armed", func(ctx context.Context, _, cancelParent context.CancelFunc) { cancelParent(); <-ctx.Done() }, later, context.Canceled},
		{"child of it ends at its deadline", func(ctx context.Context, _, _ context.CancelFunc) {
			child, cancel := context.WithCancel(ctx)
			defer cancel()
			<-child.Done()
		}, soon, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
			defer cancelParent()
			d := tt.d()
			ctx, cancel := withDeadline(parent, d)
			defer cancel()
			if got, ok := ctx.Deadline(); !ok || !got.Equal(d) {
				t.Fatalf("Deadline() = %v, %v; want %v", got, ok, d)
			}
			if ctx.Value(ctxKey{}) != "v" {
				t.Fatal("the parent's value is lost")
			}
			tt.run(ctx, cancel, cancelParent)
			if err := ctx.Err(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Err() = %v, want %v", err, tt.wantErr)
			}
		})
	}
	t.Run("a later deadline than the parent's keeps the parent's", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		pd, _ := parent.Deadline()
		ctx, cancel2 := withDeadline(parent, pd.Add(time.Hour))
		defer cancel2()
		if got, _ := ctx.Deadline(); !got.Equal(pd) {
			t.Fatalf("Deadline() = %v, want the parent's %v", got, pd)
		}
	})
}

func errNil(err error) error {
	if err == nil {
		return fmt.Errorf("Err() is still nil")
	}
	return nil
}

// TestDeadlineOnly: only an unarmed context whose parents can never be
// canceled may be waited on with a timer of the caller's own.
func TestDeadlineOnly(t *testing.T) {
	d := time.Now().Add(time.Hour)
	cancelable, cancel := context.WithCancel(context.Background())
	defer cancel()
	background, c1 := withDeadline(context.WithValue(context.Background(), ctxKey{}, 1), d)
	defer c1()
	nested, c2 := withDeadline(background, d)
	defer c2()
	overCancelable, c3 := withDeadline(cancelable, d)
	defer c3()
	armed, c4 := withDeadline(context.Background(), d)
	defer c4()
	armed.Done()
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"over Background", background, true},
		{"over another such", nested, true},
		{"over a cancelable parent", overCancelable, false},
		{"armed", armed, false},
		{"plain context.WithTimeout", cancelable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := host.DeadlineOnly(tt.ctx); ok != tt.want || (ok && !got.Equal(d)) {
				t.Fatalf("DeadlineOnly = %v, %v; want %v", got, ok, tt.want)
			}
		})
	}
}

// TestCallerStopsGuest: a guest that loops is stopped, within a watchdog
// tick or so, when its caller cancels or the caller's deadline passes, long
// before the actor's own timeout, and the instance is replaced.
func TestCallerStopsGuest(t *testing.T) {
	h, _ := newHost(t, host.NewConfig())
	s := testkit.NewSigner(t)
	loop, err := h.Load(context.Background(), s.Sign(t, testkit.WAT(t, "host/testdata/loop.wat"), "loop"), host.Limits{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		// cancelAfterStart cancels once the guest runs.
		cancelAfterStart bool
		text             string
	}{
		{"caller cancels", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, true, "the caller stopped waiting"},
		{"caller's deadline (context.WithTimeout)", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, false, "deadline exceeded"},
		{"caller's deadline (host.WithDeadline)", func() (context.Context, context.CancelFunc) {
			return withDeadline(context.Background(), time.Now().Add(200*time.Millisecond))
		}, false, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			errc := make(chan error, 1)
			go func() { _, err := loop.Invoke(ctx, "Op", nil); errc <- err }()
			if tt.cancelAfterStart {
				testkit.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
					if loop.Stats().Busy != 1 {
						return fmt.Errorf("the guest is not running yet")
					}
					return nil
				})
				cancel()
			}
			select {
			case err := <-errc:
				if !errors.Is(err, host.ErrDeadline) || spore.CodeOf(err) != spore.CodeTimeout || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("err = %v, want %v saying %q", err, host.ErrDeadline, tt.text)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("the guest still runs %s after the caller gave up", time.Since(start))
			}
			testkit.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
				if st := loop.Stats(); st.Busy != 0 || st.Instances > 1 {
					return fmt.Errorf("stats = %+v, want the stopped instance replaced", st)
				}
				return nil
			})
		})
	}
}
