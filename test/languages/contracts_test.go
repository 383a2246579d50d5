package languages_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
)

// contractActors build, per language, the test actor that calls every typed
// helper of that language's SDK (test/languages/testdata/LANG).
var contractActors = map[string]func(testing.TB) []byte{
	"go":   func(t testing.TB) []byte { return testkit.GoActor(t, "test/languages/testdata/go") },
	"rust": func(t testing.TB) []byte { return testkit.RustActor(t, "test/languages/testdata/rust/contracts.rs") },
	"as": func(t testing.TB) []byte {
		return testkit.ASActor(t, "test/languages/testdata/as/contracts.ts", "test/languages/testdata/as/asconfig.json")
	},
	"c":   func(t testing.TB) []byte { return testkit.CActor(t, "test/languages/testdata/c/contracts.c") },
	"wat": func(t testing.TB) []byte { return testkit.WATActor(t, "test/languages/testdata/wat/contracts.wat") },
}

// hostCall is one host call as the router saw it, its payload decoded into
// the contract's Go type.
type hostCall struct {
	binding, namespace, operation string
	payload                       any
}

// contractCalls are the calls every contracts actor makes, in order, and
// what the host answers each.
var contractCalls = []struct {
	want  hostCall
	reply any // encoded with msgpack; []byte goes raw, an error fails the call
}{
	{hostCall{"default", spore.ContractKeyValue, spore.OpKVGet, "k"}, spore.GetResponse{Value: []byte("v"), Exists: true}},
	{hostCall{"default", spore.ContractKeyValue, spore.OpKVSet, spore.SetRequest{Key: "k", Value: []byte("v"), TTLSeconds: 7}}, nil},
	{hostCall{"default", spore.ContractKeyValue, spore.OpKVDelete, "k"}, true},
	{hostCall{"default", spore.ContractKeyValue, spore.OpKVExists, "k"}, false},
	{hostCall{"default", spore.ContractKeyValue, spore.OpKVIncrement, spore.IncrementRequest{Key: "n", Delta: -3}}, int64(39)},
	{hostCall{"default", spore.ContractKeyValue, spore.OpKVKeys, "p"}, []string{"p1", "p2"}},
	{hostCall{"bus", spore.ContractMessaging, spore.OpMsgPublish, spore.Message{Subject: "s", ReplyTo: "r", Body: []byte("b")}}, nil},
	{hostCall{"bus", spore.ContractMessaging, spore.OpMsgRequest, spore.RequestMessage{Subject: "s", Body: []byte("q"), TimeoutMs: 250}},
		spore.Message{Subject: "s2", Body: []byte("a")}},
	{hostCall{"default", spore.ContractHTTPClient, spore.OpHTTPClientRequest, spore.OutboundRequest{
		Method: "GET", URL: "http://x/", Header: map[string][]string{"A": {"1", "2"}}, Body: []byte("hb")}},
		spore.HTTPResponse{Status: 404, Header: map[string][]string{"B": {"3"}}, Body: []byte("nope")}},
	{hostCall{"default", spore.ContractLogging, spore.OpLoggingWrite, spore.LogEntry{Level: "warn", Text: "w"}}, nil},
	{hostCall{"default", "other", "Ping", []byte("p")}, []byte("pong")},
	{hostCall{"default", spore.ContractKeyValue, spore.OpKVGet, "denied"}, errors.New("no way")},
}

// contractReport is what every contracts actor answers Contracts.Run with,
// but for the last line, which ends in the host's error text.
const contractReport = `get v true
set
delete true
exists false
increment 39
keys p1,p2
publish
request s2 a
http 404 3 nope
log
call pong
denied `

// TestContracts checks every SDK against the contracts of SPEC section 5:
// each language's contracts actor calls every typed helper once, and the
// payloads must decode into the root package's types exactly, the replies
// (encoded by Go) must come back as the report says, and a host error must
// reach the actor. Messaging.HandleMessage must decode a message.
func TestContracts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Wasm modules in five languages")
	}
	ctx := context.Background()
	s := testkit.NewSigner(t)
	caps := []string{spore.ContractKeyValue, spore.ContractMessaging, spore.ContractHTTPClient, spore.ContractLogging, spore.ContractActor}
	for _, lang := range testkit.Languages {
		t.Run(lang, func(t *testing.T) {
			var mu sync.Mutex
			var got []hostCall
			router := host.RouterFunc(func(_ context.Context, c *host.Call) ([]byte, error) {
				mu.Lock()
				defer mu.Unlock()
				i := len(got)
				got = append(got, hostCall{c.Binding, c.Namespace, c.Operation, decodePayload(t, c)})
				if i >= len(contractCalls) {
					return nil, errors.New("test: more calls than expected")
				}
				switch r := contractCalls[i].reply.(type) {
				case nil:
					return nil, nil
				case []byte:
					return r, nil
				case error:
					return nil, r
				default:
					return msgpack.Marshal(r)
				}
			})
			h, err := host.New(ctx, hostConfig().WithRouter(router).WithLinks(linkAll))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(ctx)
			a, err := h.Load(ctx, s.Sign(t, contractActors[lang](t), "contracts-"+lang, caps...), host.Limits{})
			if err != nil {
				t.Fatal(err)
			}

			out, err := a.Invoke(ctx, "Contracts.Run", nil)
			if err != nil {
				t.Fatalf("Contracts.Run: %v (calls so far: %+v)", err, got)
			}
			for i, c := range contractCalls {
				if i >= len(got) {
					t.Fatalf("call %d: none, want %+v", i, c.want)
				}
				if !reflect.DeepEqual(got[i], c.want) {
					t.Errorf("call %d:\n got %#v\nwant %#v", i, got[i], c.want)
				}
			}
			if len(got) != len(contractCalls) {
				t.Errorf("%d calls, want %d", len(got), len(contractCalls))
			}
			report := string(out)
			if !strings.HasPrefix(report, contractReport) || !strings.HasSuffix(report, "no way") {
				t.Errorf("report:\n%s\nwant:\n%s<text ending in: no way>", report, contractReport)
			}

			msg, _ := msgpack.Marshal(&spore.Message{Subject: "a.b", ReplyTo: "_INBOX.1", Body: []byte("hi")})
			out, err = a.Invoke(ctx, spore.OpMsgHandleMessage, msg)
			if err != nil || string(out) != "a.b|_INBOX.1|hi" {
				t.Errorf("HandleMessage: %q, %v; want a.b|_INBOX.1|hi", out, err)
			}
			_, err = a.Invoke(ctx, "No.Such", nil)
			if err == nil || !strings.Contains(err.Error(), "No.Such") {
				t.Errorf("unknown operation: %v, want an error naming it", err)
			}
		})
	}
}

// decodePayload decodes a host call's payload into the type its operation
// carries, refusing keys the type does not have.
func decodePayload(t testing.TB, c *host.Call) any {
	var v any
	switch c.Operation {
	case spore.OpKVGet, spore.OpKVDelete, spore.OpKVExists, spore.OpKVKeys:
		v = new(string)
	case spore.OpKVSet:
		v = new(spore.SetRequest)
	case spore.OpKVIncrement:
		v = new(spore.IncrementRequest)
	case spore.OpMsgPublish:
		v = new(spore.Message)
	case spore.OpMsgRequest:
		v = new(spore.RequestMessage)
	case spore.OpHTTPClientRequest:
		v = new(spore.OutboundRequest)
	case spore.OpLoggingWrite:
		v = new(spore.LogEntry)
	default:
		return c.Payload
	}
	dec := msgpack.NewDecoder(bytes.NewReader(c.Payload))
	dec.DisallowUnknownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Errorf("%s: payload %x: %v", c.Operation, c.Payload, err)
	}
	return reflect.ValueOf(v).Elem().Interface()
}
