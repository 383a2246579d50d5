//go:build !wasip1

package actor_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

// recorded is one host call seen by the fake host.
type recorded struct {
	binding, namespace, operation string
	payload                       any // decoded generically, so field names are checked as written
}

// fakeHost records each call and answers with reply.
func fakeHost(t *testing.T, reply any) *recorded {
	t.Helper()
	rec := &recorded{}
	restore := actor.SetHost(func(binding, ns, op string, payload []byte) ([]byte, error) {
		*rec = recorded{binding: binding, namespace: ns, operation: op}
		if len(payload) > 0 {
			if err := msgpack.Unmarshal(payload, &rec.payload); err != nil {
				t.Errorf("payload of %s is not msgpack: %v", op, err)
			}
		}
		if reply == nil {
			return nil, nil
		}
		if raw, ok := reply.([]byte); ok {
			return raw, nil
		}
		return msgpack.Marshal(reply)
	})
	t.Cleanup(restore)
	return rec
}

func TestHostCalls(t *testing.T) {
	tests := []struct {
		name    string
		call    func() (any, error)
		reply   any // what the host answers; []byte is sent raw
		binding string
		ns      string
		op      string
		payload any // the payload as decoded into any
		want    any
	}{
		{
			name:  "KeyValue.Get",
			call:  func() (any, error) { v, ok, err := actor.KeyValue("cache").Get("k"); return []any{string(v), ok}, err },
			reply: spore.GetResponse{Value: []byte("v"), Exists: true}, binding: "cache",
			ns: spore.ContractKeyValue, op: spore.OpKVGet, payload: "k", want: []any{"v", true},
		},
		{
			name:  "KeyValue.Get missing",
			call:  func() (any, error) { v, ok, err := actor.KeyValue("").Get("k"); return []any{v == nil, ok}, err },
			reply: spore.GetResponse{}, ns: spore.ContractKeyValue, op: spore.OpKVGet, payload: "k", want: []any{true, false},
		},
		{
			name: "KeyValue.Set rounds ttl up",
			call: func() (any, error) { return nil, actor.KeyValue("").Set("k", []byte("v"), 1500*time.Millisecond) },
			ns:   spore.ContractKeyValue, op: spore.OpKVSet,
			payload: map[string]any{"key": "k", "value": []byte("v"), "ttl_seconds": uint32(2)},
		},
		{
			name: "KeyValue.Set no ttl",
			call: func() (any, error) { return nil, actor.KeyValue("").Set("k", nil, 0) },
			ns:   spore.ContractKeyValue, op: spore.OpKVSet,
			payload: map[string]any{"key": "k", "value": nil, "ttl_seconds": uint32(0)},
		},
		{
			name:  "KeyValue.Delete",
			call:  func() (any, error) { return actor.KeyValue("").Delete("k") },
			reply: true, ns: spore.ContractKeyValue, op: spore.OpKVDelete, payload: "k", want: true,
		},
		{
			name:  "KeyValue.Exists",
			call:  func() (any, error) { return actor.KeyValue("").Exists("k") },
			reply: false, ns: spore.ContractKeyValue, op: spore.OpKVExists, payload: "k", want: false,
		},
		{
			name:  "KeyValue.Increment",
			call:  func() (any, error) { return actor.KeyValue("").Increment("hits", -3) },
			reply: int64(39), ns: spore.ContractKeyValue, op: spore.OpKVIncrement,
			payload: map[string]any{"key": "hits", "delta": int64(-3)}, want: int64(39),
		},
		{
			name:  "KeyValue.Increment small int reply",
			call:  func() (any, error) { return actor.KeyValue("").Increment("hits", 1) },
			reply: []byte{0x05}, ns: spore.ContractKeyValue, op: spore.OpKVIncrement,
			payload: map[string]any{"key": "hits", "delta": int64(1)}, want: int64(5),
		},
		{
			name:  "KeyValue.Keys",
			call:  func() (any, error) { return actor.KeyValue("").Keys("user.") },
			reply: []string{"user.1", "user.2"}, ns: spore.ContractKeyValue, op: spore.OpKVKeys,
			payload: "user.", want: []string{"user.1", "user.2"},
		},
		{
			name:    "Messaging.Publish",
			call:    func() (any, error) { return nil, actor.Messaging("bus").Publish("orders", "", []byte("o1")) },
			binding: "bus", ns: spore.ContractMessaging, op: spore.OpMsgPublish,
			payload: map[string]any{"subject": "orders", "reply_to": "", "body": []byte("o1")},
		},
		{
			name: "Messaging.Request",
			call: func() (any, error) {
				m, err := actor.Messaging("").Request("time", []byte("?"), 250*time.Millisecond)
				if err != nil {
					return nil, err
				}
				return *m, nil
			},
			reply: spore.Message{Subject: "_INBOX.x", Body: []byte("noon")},
			ns:    spore.ContractMessaging, op: spore.OpMsgRequest,
			payload: map[string]any{"subject": "time", "body": []byte("?"), "timeout_ms": uint32(250)},
			want:    spore.Message{Subject: "_INBOX.x", Body: []byte("noon")},
		},
		{
			name: "HttpClient.Request",
			call: func() (any, error) {
				r, err := actor.HTTPClient("").Do(&spore.OutboundRequest{Method: "GET", URL: "https://example.com/"})
				if err != nil {
					return nil, err
				}
				return *r, nil
			},
			reply: spore.HTTPResponse{Status: 404, Body: []byte("nope")},
			ns:    spore.ContractHTTPClient, op: spore.OpHTTPClientRequest,
			payload: map[string]any{"method": "GET", "url": "https://example.com/", "header": nil, "body": nil},
			want:    spore.HTTPResponse{Status: 404, Body: []byte("nope")},
		},
		{
			name: "Logging.Write",
			call: func() (any, error) { actor.Log.Warn("disk low"); return nil, nil },
			ns:   spore.ContractLogging, op: spore.OpLoggingWrite,
			payload: map[string]any{"level": "warn", "text": "disk low"},
		},
		{
			name:  "actor to actor",
			call:  func() (any, error) { b, err := actor.Call("billing", "Charge", []byte{0x0a}); return string(b), err },
			reply: []byte("charged"), ns: "billing", op: "Charge", payload: int8(10), want: "charged",
		},
		{
			name: "raw",
			call: func() (any, error) {
				b, err := actor.HostCall("l", "spore:custom", "Custom.Op", nil)
				return string(b), err
			},
			reply: []byte("raw"), binding: "l", ns: "spore:custom", op: "Custom.Op", want: "raw",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fakeHost(t, tt.reply)
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if rec.binding != tt.binding || rec.namespace != tt.ns || rec.operation != tt.op {
				t.Errorf("host call (%q, %q, %q), want (%q, %q, %q)", rec.binding, rec.namespace, rec.operation, tt.binding, tt.ns, tt.op)
			}
			if !equalLoose(rec.payload, tt.payload) {
				t.Errorf("payload %#v, want %#v", rec.payload, tt.payload)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result %#v, want %#v", got, tt.want)
			}
		})
	}
}

// equalLoose compares decoded msgpack values, treating all integers alike:
// encoders may pick any integer width.
func equalLoose(a, b any) bool {
	ai, aok := toInt(a)
	bi, bok := toInt(b)
	if aok || bok {
		return aok && bok && ai == bi
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok || bok {
		if !aok || !bok || len(am) != len(bm) {
			return false
		}
		for k, v := range am {
			w, ok := bm[k]
			if !ok || !equalLoose(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func toInt(v any) (int64, bool) {
	switch x := reflect.ValueOf(v); x.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return x.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(x.Uint()), true
	}
	return 0, false
}

func TestHostErrors(t *testing.T) {
	denied := errors.New(`actor "counter" (MABC) has no claim for spore:keyvalue`)
	defer actor.SetHost(func(string, string, string, []byte) ([]byte, error) { return nil, denied })()

	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, _, err := actor.KeyValue("").Get("k"); return err }},
		{"Set", func() error { return actor.KeyValue("").Set("k", nil, 0) }},
		{"Delete", func() error { _, err := actor.KeyValue("").Delete("k"); return err }},
		{"Exists", func() error { _, err := actor.KeyValue("").Exists("k"); return err }},
		{"Increment", func() error { _, err := actor.KeyValue("").Increment("k", 1); return err }},
		{"Keys", func() error { _, err := actor.KeyValue("").Keys(""); return err }},
		{"Publish", func() error { return actor.Messaging("").Publish("s", "", nil) }},
		{"Request", func() error { _, err := actor.Messaging("").Request("s", nil, 0); return err }},
		{"Do", func() error { _, err := actor.HTTPClient("").Do(&spore.OutboundRequest{}); return err }},
		{"Write", func() error { return actor.Log.Write(actor.LevelInfo, "x") }},
		{"Call", func() error { _, err := actor.Call("a", "Op", nil); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var he *actor.HostError
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want a *HostError", err)
			}
			if he.Message != denied.Error() || !errors.Is(err, denied) {
				t.Fatalf("HostError %+v does not carry the host's error", he)
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		_, _, err := actor.KeyValue("").Get("k")
		want := `actor: spore:keyvalue KeyValue.Get: actor "counter" (MABC) has no claim for spore:keyvalue`
		if err.Error() != want {
			t.Fatalf("got %q, want %q", err, want)
		}
	})
	t.Run("bad response", func(t *testing.T) {
		actor.SetHost(func(string, string, string, []byte) ([]byte, error) { return []byte{0xc1}, nil })
		if _, err := actor.KeyValue("").Exists("k"); err == nil {
			t.Fatal("no error for a response that is not msgpack")
		}
	})
}

func TestNoHost(t *testing.T) {
	defer actor.SetHost(nil)()
	if _, err := actor.HostCall("", "spore:keyvalue", "KeyValue.Get", nil); !errors.Is(err, actor.ErrNoHost) {
		t.Fatalf("err = %v, want ErrNoHost", err)
	}
	actor.Log.Info("falls back to the console without failing")
}

func TestSetHostRestore(t *testing.T) {
	answer := func(s string) actor.HostFunc {
		return func(string, string, string, []byte) ([]byte, error) { return []byte(s), nil }
	}
	call := func() string {
		b, err := actor.HostCall("", "a", "Op", nil)
		if err != nil {
			return "error"
		}
		return string(b)
	}
	restoreOuter := actor.SetHost(answer("outer"))
	restoreInner := actor.SetHost(answer("inner"))
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"inner installed", func() {}, "inner"},
		{"inner restored", restoreInner, "outer"},
		{"nil installed", func() { restoreInner = actor.SetHost(nil) }, "error"},
		{"nil restored", func() { restoreInner() }, "outer"},
		{"outer restored", restoreOuter, "error"},
	}
	for _, s := range steps {
		s.do()
		if got := call(); got != s.want {
			t.Fatalf("%s: host answered %q, want %q", s.name, got, s.want)
		}
	}
}
