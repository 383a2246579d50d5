//go:build !wasip1

package actor_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

func init() {
	actor.Handle("Test.Echo", func(p []byte) ([]byte, error) { return p, nil })
	actor.Handle("Test.Fail", func([]byte) ([]byte, error) { return nil, errors.New("test: failed") })
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name    string
		op      string
		payload string
		want    string
		wantErr string
	}{
		{name: "echo", op: "Test.Echo", payload: "hi", want: "hi"},
		{name: "empty payload", op: "Test.Echo", payload: "", want: ""},
		{name: "handler error", op: "Test.Fail", payload: "x", wantErr: "test: failed"},
		{name: "unknown op", op: "Test.Nope", wantErr: "actor: no handler for operation Test.Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := actor.Dispatch(tt.op, []byte(tt.payload))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := actor.Dispatch("Test.Nope", nil); !errors.Is(err, actor.ErrNoHandler) {
		t.Fatalf("unknown op: %v is not ErrNoHandler", err)
	}
}

func TestHandleHTTP(t *testing.T) {
	defer actor.Handle(spore.OpHTTPHandleRequest, func([]byte) ([]byte, error) { return nil, nil })
	tests := []struct {
		name    string
		resp    *spore.HTTPResponse
		err     error
		want    spore.HTTPResponse
		wantErr string
	}{
		{
			name: "response",
			resp: &spore.HTTPResponse{Status: 201, Header: map[string][]string{"X": {"1"}}, Body: []byte("made")},
			want: spore.HTTPResponse{Status: 201, Header: map[string][]string{"X": {"1"}}, Body: []byte("made")},
		},
		{name: "zero status is 200", resp: &spore.HTTPResponse{Body: []byte("b")}, want: spore.HTTPResponse{Status: 200, Body: []byte("b")}},
		{name: "nil response is 200", want: spore.HTTPResponse{Status: 200}},
		{name: "error", err: errors.New("test: broken"), wantErr: "test: broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *spore.HTTPRequest
			actor.HandleHTTP(func(r *spore.HTTPRequest) (*spore.HTTPResponse, error) {
				got = r
				return tt.resp, tt.err
			})
			req := spore.HTTPRequest{Method: "GET", Path: "/a", Query: "b=c", Header: map[string][]string{"H": {"v"}}, Body: []byte("in")}
			out, err := actor.Dispatch(spore.OpHTTPHandleRequest, mustMarshal(t, &req))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, req) {
				t.Errorf("handler got %+v, want %+v", *got, req)
			}
			var resp spore.HTTPResponse
			if err := msgpack.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(resp, tt.want) {
				t.Errorf("response %+v, want %+v", resp, tt.want)
			}
		})
	}
	t.Run("bad payload", func(t *testing.T) {
		actor.HandleHTTP(func(*spore.HTTPRequest) (*spore.HTTPResponse, error) { return nil, nil })
		if _, err := actor.Dispatch(spore.OpHTTPHandleRequest, []byte{0xc1}); err == nil {
			t.Fatal("no error for a payload that is not msgpack")
		}
	})
}

func TestHandleMessage(t *testing.T) {
	actor.HandleMessage(func(m *spore.Message) ([]byte, error) {
		return []byte(m.Subject + "|" + m.ReplyTo + "|" + string(m.Body)), nil
	})
	in := mustMarshal(t, map[string]any{"subject": "a.b", "reply_to": "_INBOX.1", "body": []byte("hi")})
	out, err := actor.Dispatch(spore.OpMsgHandleMessage, in)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "a.b|_INBOX.1|hi" {
		t.Fatalf("got %q", out)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Dispatch adds no allocation of its own to a handler's.
func TestDispatchAllocs(t *testing.T) {
	payload := []byte("payload")
	if n := testing.AllocsPerRun(100, func() { actor.Dispatch("Test.Echo", payload) }); n != 0 {
		t.Fatalf("Dispatch allocates %v times per call", n)
	}
}
