//go:build !wasip1

package actor

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"

	spore "github.com/spore-run/spore"
)

// The hand-written codec is held to vmihailenco/msgpack, which the host and
// the providers use: the encoders write the bytes msgpack.Marshal writes,
// and whatever the decoders accept, msgpack.Unmarshal reads the same way.

var (
	long      = strings.Repeat("x", 300)
	huge      = strings.Repeat("y", 70000)
	oneHeader = map[string][]string{"Content-Type": {"text/plain"}}
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name   string
		value  any // what msgpack.Marshal encodes
		encode func([]byte) []byte
	}{
		{"string", "k", func(b []byte) []byte { return appendStr(b, "k") }},
		{"long string", long, func(b []byte) []byte { return appendStr(b, long) }},
		{"huge string", huge, func(b []byte) []byte { return appendStr(b, huge) }},
		{"response", &spore.HTTPResponse{Status: 404, Header: oneHeader, Body: []byte("nope")}, func(b []byte) []byte {
			return appendHTTPResponse(b, &spore.HTTPResponse{Status: 404, Header: oneHeader, Body: []byte("nope")})
		}},
		{"empty response", &spore.HTTPResponse{}, func(b []byte) []byte { return appendHTTPResponse(b, &spore.HTTPResponse{}) }},
		{"empty header and body", &spore.HTTPResponse{Status: 200, Header: map[string][]string{}, Body: []byte{}}, func(b []byte) []byte {
			return appendHTTPResponse(b, &spore.HTTPResponse{Status: 200, Header: map[string][]string{}, Body: []byte{}})
		}},
		{"nil and empty values", &spore.HTTPResponse{Header: map[string][]string{"A": nil}}, func(b []byte) []byte {
			return appendHTTPResponse(b, &spore.HTTPResponse{Header: map[string][]string{"A": nil}})
		}},
		{"large body", &spore.HTTPResponse{Status: 65535, Body: []byte(huge)}, func(b []byte) []byte {
			return appendHTTPResponse(b, &spore.HTTPResponse{Status: 65535, Body: []byte(huge)})
		}},
		{"medium body", &spore.HTTPResponse{Body: []byte(long)}, func(b []byte) []byte {
			return appendHTTPResponse(b, &spore.HTTPResponse{Body: []byte(long)})
		}},
		{"outbound request", &spore.OutboundRequest{Method: "GET", URL: "http://x/", Header: map[string][]string{"A": {"1", "2"}}, Body: []byte("hb")}, func(b []byte) []byte {
			return appendOutboundRequest(b, &spore.OutboundRequest{Method: "GET", URL: "http://x/", Header: map[string][]string{"A": {"1", "2"}}, Body: []byte("hb")})
		}},
		{"nil outbound request", (*spore.OutboundRequest)(nil), func(b []byte) []byte { return appendOutboundRequest(b, nil) }},
		{"set", &spore.SetRequest{Key: "k", Value: []byte("v"), TTLSeconds: 1<<32 - 1}, func(b []byte) []byte {
			return appendSetRequest(b, &spore.SetRequest{Key: "k", Value: []byte("v"), TTLSeconds: 1<<32 - 1})
		}},
		{"increment", &spore.IncrementRequest{Key: "n", Delta: -3}, func(b []byte) []byte {
			return appendIncrementRequest(b, &spore.IncrementRequest{Key: "n", Delta: -3})
		}},
		{"message", &spore.Message{Subject: "s", ReplyTo: long, Body: []byte("b")}, func(b []byte) []byte {
			return appendMessage(b, &spore.Message{Subject: "s", ReplyTo: long, Body: []byte("b")})
		}},
		{"request message", &spore.RequestMessage{Subject: "s", TimeoutMs: 250}, func(b []byte) []byte {
			return appendRequestMessage(b, &spore.RequestMessage{Subject: "s", TimeoutMs: 250})
		}},
		{"log entry", &spore.LogEntry{Level: "warn", Text: huge}, func(b []byte) []byte {
			return appendLogEntry(b, &spore.LogEntry{Level: "warn", Text: huge})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := msgpack.Marshal(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			got := tt.encode([]byte("prefix"))
			if !bytes.HasPrefix(got, []byte("prefix")) {
				t.Fatalf("the encoder did not append: %q", got[:min(len(got), 16)])
			}
			if got := got[len("prefix"):]; !bytes.Equal(got, want) {
				t.Errorf("encoded\n%s\nmsgpack.Marshal writes\n%s", hex.Dump(got[:min(len(got), 128)]), hex.Dump(want[:min(len(want), 128)]))
			}
		})
	}
}

// Map entries come out in Go's map order, so a header of several keys is
// compared decoded.
func TestEncodeHeaders(t *testing.T) {
	h := map[string][]string{"A": {"1"}, "B": {}, "C": nil, long: {long, "x"}}
	for i := range 20 { // past a fixmap's 15 entries
		h[strings.Repeat("k", i+1)] = []string{"v"}
	}
	in := spore.HTTPResponse{Status: 200, Header: h}
	var out spore.HTTPResponse
	if err := msgpack.Unmarshal(appendHTTPResponse(nil, &in), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("decoded %+v, want %+v", out, in)
	}
}

// decoders are the hand-written decoders, each with the value msgpack
// decodes the same bytes into.
var decoders = []struct {
	name   string
	decode func([]byte) (any, error)
	into   func() any // a pointer to a zero value for msgpack.Unmarshal
}{
	{"request", func(b []byte) (any, error) { return decodeHTTPRequest(b, false) }, func() any { return new(spore.HTTPRequest) }},
	{"owned request", func(b []byte) (any, error) { return decodeHTTPRequest(bytes.Clone(b), true) }, func() any { return new(spore.HTTPRequest) }},
	{"response", func(b []byte) (any, error) { return decodeHTTPResponse(b) }, func() any { return new(spore.HTTPResponse) }},
	{"message", func(b []byte) (any, error) { return decodeMessage(b) }, func() any { return new(spore.Message) }},
	{"get", func(b []byte) (any, error) { return decodeGetResponse(b) }, func() any { return new(spore.GetResponse) }},
	{"bool", func(b []byte) (any, error) { v, err := decodeBool(b); return &v, err }, func() any { return new(bool) }},
	{"int64", func(b []byte) (any, error) { v, err := decodeInt64(b); return &v, err }, func() any { return new(int64) }},
	{"strings", func(b []byte) (any, error) { v, err := decodeStrings(b); return &v, err }, func() any { return new([]string) }},
}

// agree decodes data with the decoder and, if it accepts it, checks that
// msgpack.Unmarshal accepts it too and reads the same value. It returns the
// decoder's error.
func agree(t *testing.T, i int, data []byte) error {
	t.Helper()
	d := decoders[i]
	got, err := d.decode(data)
	if err != nil {
		return err
	}
	want := d.into()
	if err := msgpack.Unmarshal(data, want); err != nil {
		t.Fatalf("%s: decoded %x as %+v, msgpack refuses it: %v", d.name, data, got, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decoded %x as\n%#v\nmsgpack reads\n%#v", d.name, data, got, want)
	}
	return nil
}

func decoderIndex(t *testing.T, name string) int {
	for i, d := range decoders {
		if d.name == name {
			return i
		}
	}
	t.Fatalf("no decoder %s", name)
	return -1
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// enc writes a map of keys to values with msgpack, in the order given,
// the values encoded as msgpack encodes them or raw when they are raw.
func enc(t testing.TB, kv ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	e := msgpack.NewEncoder(&b)
	if err := e.EncodeMapLen(len(kv) / 2); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		if err := e.EncodeString(kv[i].(string)); err != nil {
			t.Fatal(err)
		}
		if r, ok := kv[i+1].(raw); ok {
			b.Write(r)
			continue
		}
		if err := e.Encode(kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// raw is a value written as it is.
type raw []byte

func TestDecode(t *testing.T) {
	wrk := &spore.HTTPRequest{Method: "GET", Path: "/greet", Query: "name=Ada", Header: map[string][]string{"Host": {"127.0.0.1:8080"}}, Body: []byte{}}
	many := map[string][]string{"A": {"1", "2"}, "B": {}, "C": nil, long: {huge}}
	for i := range 70 {
		many[strings.Repeat("k", i+1)] = []string{"v", "w"}
	}
	tests := []struct {
		name, decoder string
		data          []byte
		wantErr       string // empty: must decode, as msgpack does
	}{
		{"wrk's request", "request", mustMarshal(t, wrk), ""},
		{"a large owned request", "owned request", mustMarshal(t, &spore.HTTPRequest{Method: "POST", Path: "/p", Body: []byte(huge)}), ""},
		{"a request with many headers", "request", mustMarshal(t, &spore.HTTPRequest{Method: "POST", Header: many, Body: []byte(huge)}), ""},
		{"keys in another order, str body, bin strings", "request", enc(t, "body", "text", "header", map[string][]string{"X": {"y"}}, "path", []byte("/p"), "method", "PUT"), ""},
		{"unknown fields of every kind", "request", enc(t,
			"nested", map[string]any{"a": []any{1, -1, 1.5, float32(2), true, nil, map[string]any{"b": []byte("c")}}},
			"ints", []any{uint64(1 << 40), int64(-1 << 40), 300, -300, 70000, -70000},
			"ext", raw{0x94, 0xd4, 1, 0, 0xd5, 1, 0, 0, 0xd6, 1, 0, 0, 0, 0, 0xc7, 2, 1, 0, 0},
			"method", "GET"), ""},
		{"five fields, another order", "request", enc(t, "path", "/p", "method", "GET", "query", "q", "header", map[string][]string{"A": {"1"}}, "body", "b"), ""},
		{"five fields, an unknown one in the middle", "request", enc(t, "method", "GET", "path", "/p", "x", map[string]any{"y": 1}, "header", map[string][]string{"A": {"1"}}, "body", "b"), ""},
		{"five fields in order but the last", "request", enc(t, "method", "GET", "path", "/p", "query", "q", "header", map[string][]string{"A": {"1"}}, "method", "PUT"), ""},
		{"nil fields", "request", enc(t, "method", nil, "header", nil, "body", nil), ""},
		{"repeated header merges", "request", enc(t, "header", map[string][]string{"A": {"1"}}, "header", map[string][]string{"B": {"2"}}), ""},
		{"repeated header, then nil", "request", enc(t, "header", map[string][]string{"A": {"1"}}, "header", nil), ""},
		{"nil request", "request", []byte{0xc0}, ""},
		{"a nil key", "request", []byte{0x81, 0xc0, 0x01}, ""},
		{"trailing bytes", "request", append(mustMarshal(t, wrk), 0xc1), ""},
		{"empty", "request", nil, "unexpected end"},
		{"truncated", "request", mustMarshal(t, wrk)[:20], "unexpected end"},
		{"an array struct", "request", mustMarshal(t, []any{"GET", "/", "", nil, nil}), "where a map was expected"},
		{"a number method", "request", enc(t, "method", 1), "where a string was expected"},
		{"a map that lies about its size", "request", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'x', 0x01}, "unexpected end"},
		{"a header array that lies", "request", enc(t, "header", raw{0x81, 0xa1, 'A', 0xdd, 0xff, 0xff, 0xff, 0xff}), "unexpected end"},
		{"skip over 0xc1", "request", enc(t, "x", raw{0xc1}), "where a value was expected"},
		{"deep nesting", "request", append(append([]byte{0x81, 0xa1, 'x'}, bytes.Repeat([]byte{0x91}, 100000)...), 0xc0), ""},
		{"response", "response", mustMarshal(t, &spore.HTTPResponse{Status: 404, Header: oneHeader, Body: []byte("nope")}), ""},
		{"status widths", "response", enc(t, "status", raw{0xd1, 0x01, 0xf4}), ""},
		{"status from uint64", "response", enc(t, "status", uint64(204)), ""},
		{"status fixint", "response", enc(t, "status", raw{0x7f}), ""},
		{"status too big", "response", enc(t, "status", 70000), "more than 65535"},
		{"negative status", "response", enc(t, "status", -1), "unsigned integer"},
		{"message", "message", mustMarshal(t, &spore.Message{Subject: "a.b", ReplyTo: "_INBOX.1", Body: []byte("hi")}), ""},
		{"get", "get", mustMarshal(t, &spore.GetResponse{Value: []byte("v"), Exists: true}), ""},
		{"get missing", "get", mustMarshal(t, &spore.GetResponse{}), ""},
		{"exists not a bool", "get", enc(t, "exists", 1), "where a bool was expected"},
		{"true", "bool", mustMarshal(t, true), ""},
		{"nil bool", "bool", []byte{0xc0}, ""},
		{"no bool", "bool", nil, "unexpected end"},
		{"int64", "int64", mustMarshal(t, int64(-3)), ""},
		{"int64 fixint", "int64", []byte{0xe0}, ""},
		{"int64 int8", "int64", []byte{0xd0, 0x80}, ""},
		{"int64 uint32", "int64", []byte{0xce, 0xff, 0xff, 0xff, 0xff}, ""},
		{"int64 too big", "int64", []byte{0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0}, "more than"},
		{"keys", "strings", mustMarshal(t, []string{"p1", "p2"}), ""},
		{"no keys", "strings", mustMarshal(t, []string{}), ""},
		{"nil keys", "strings", []byte{0xc0}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := agree(t, decoderIndex(t, tt.decoder), tt.data)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("%x: %v", tt.data, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("%x: error %v, want one containing %q", tt.data, err, tt.wantErr)
			}
		})
	}
}

// The strings of a decoded request alias the payload (or its copy), and its
// slices end where their bytes do, so a handler appending to them writes
// nothing of the request's; a payload that is not the request's to keep is
// copied.
func TestDecodeAppend(t *testing.T) {
	for _, size := range []int{1, 1000} {
		for _, owned := range []bool{false, true} {
			body := bytes.Repeat([]byte("b"), size)
			data := enc(t, "body", body, "header", map[string][]string{"A": {"1"}}, "path", "/p")
			r, err := decodeHTTPRequest(data, owned)
			if err != nil {
				t.Fatal(err)
			}
			_ = append(r.Body, "XXXXXXXXXXXXXXXXXXXXXXXXX"...)
			_ = append(r.Header["A"], "2")
			if !owned {
				clear(data)
			}
			if r.Path != "/p" || r.Header["A"][0] != "1" || !bytes.Equal(r.Body, body) {
				t.Fatalf("body of %d bytes, owned %v: the request changed: %+v", size, owned, r)
			}
		}
	}
	if n := unsafe.Sizeof(request{}); n != 512 {
		t.Errorf("a request takes %d bytes, not 512 (a size class)", n)
	}
}

// FuzzDecode runs every decoder on what the host could send: whatever a
// decoder accepts, msgpack.Unmarshal must read the same way, and nothing
// panics.
func FuzzDecode(f *testing.F) {
	f.Add(mustMarshal(f, &spore.HTTPRequest{Method: "GET", Path: "/greet", Query: "name=Ada", Header: map[string][]string{"Host": {"127.0.0.1:8080"}}, Body: []byte{}}))
	f.Add(mustMarshal(f, &spore.HTTPResponse{Status: 404, Header: map[string][]string{"B": {"3", "4"}, "C": nil}, Body: []byte("nope")}))
	f.Add(mustMarshal(f, &spore.Message{Subject: "a.b", ReplyTo: "_INBOX.1", Body: []byte("hi")}))
	f.Add(mustMarshal(f, &spore.GetResponse{Value: []byte("v"), Exists: true}))
	f.Add(mustMarshal(f, map[string]any{"x": []any{1.5, -7, map[string]any{"y": nil}}, "status": 300}))
	f.Add(mustMarshal(f, []string{"p1", "p2"}))
	f.Add(mustMarshal(f, int64(-1<<40)))
	f.Add([]byte{0x81, 0xa1, 'x', 0xc7, 2, 1, 0, 0})
	f.Add([]byte{0xc3})
	f.Fuzz(func(t *testing.T, data []byte) {
		for i := range decoders {
			agree(t, i, data)
		}
	})
}

// FuzzEncode encodes values with the hand-written encoders and decodes them
// back with both the decoders and msgpack.
func FuzzEncode(f *testing.F) {
	f.Add(uint16(200), "Content-Type", "text/plain", []byte("body"), "GET")
	f.Add(uint16(0), "", "", []byte(nil), "")
	f.Add(uint16(65535), long, long, []byte(long), long)
	f.Fuzz(func(t *testing.T, status uint16, key, value string, body []byte, s string) {
		header := map[string][]string{key: {value, s}, s: nil}
		check := func(i int, data []byte, want any) {
			t.Helper()
			if err := agree(t, i, data); err != nil {
				t.Fatalf("%s: %x: %v", decoders[i].name, data, err)
			}
			got := decoders[i].into()
			msgpack.Unmarshal(data, got)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: round trip of %#v gave %#v", decoders[i].name, want, got)
			}
		}
		resp := &spore.HTTPResponse{Status: status, Header: header, Body: body}
		check(decoderIndex(t, "response"), appendHTTPResponse(nil, resp), resp)
		msg := &spore.Message{Subject: s, ReplyTo: key, Body: body}
		check(decoderIndex(t, "message"), appendMessage(nil, msg), msg)
		strs := &[]string{key, value, s}
		b := appendLen(nil, 3, 0x90, mpArray16)
		check(decoderIndex(t, "strings"), appendStr(appendStr(appendStr(b, key), value), s), strs)
	})
}

// The key constants are the words key reads for the field names, and no
// other name reads as one of them.
func TestKeys(t *testing.T) {
	keys := map[string]uint64{
		"method": keyMethod, "path": keyPath, "query": keyQuery, "header": keyHeader, "body": keyBody,
		"status": keyStatus, "subject": keySubject, "reply_to": keyReplyTo, "value": keyValue, "exists": keyExists,
	}
	read := func(name string, pad int) uint64 {
		b := append(appendStr(nil, name), make([]byte, pad)...) // pad: room to read a whole word
		d := decoder{b: b}
		return d.key()
	}
	for name, want := range keys {
		for _, pad := range []int{0, 8} {
			if got := read(name, pad); got != want {
				t.Errorf("key(%q) with %d bytes after = %#x, want %#x", name, pad, got, want)
			}
		}
	}
	for _, name := range []string{"", "body\x00", "bodyx", "bod", "reply_to_", "\x00", "methoD", long} {
		for _, pad := range []int{0, 8} {
			got := read(name, pad)
			for known, k := range keys {
				if got == k {
					t.Errorf("key(%q) reads as %q", name, known)
				}
			}
		}
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"a", "a", true},
		{"a", "b", false},
		{"ab", "ab", true},
		{"ab", "aB", false},
		{"Ab", "ab", false},
		{"abc", "abc", true},
		{"abc", "aBc", false},
		{"abcd", "abcD", false},
		{"Hello", "Hello", true},
		{"Hello", "HeLlo", false},
		{"Hello", "Hellp", false},
		{"HttpServer.HandleRequest", "HttpServer.HandleRequest", true},
		{"HttpServer.HandleRequesT", "HttpServer.HandleRequest", false},
		{"XttpServer.HandleRequest", "HttpServer.HandleRequest", false},
		{"HttpServeX.HandleRequest", "HttpServer.HandleRequest", false},
		{"12345678", "12345678", true},
		{"12345678", "12345679", false},
		{"123456789", "023456789", false},
		{"0123456789abcdef", "0123456789abcdeF", false},
		{"0123456789abcdefg", "0123456789abcdefg", true},
		{"0123456789abcdefg", "0123456789abcdeFg", false},
		{"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", true},
		{"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdeF", false},
		{"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789Abcdef", false},
		{"0123456789abcdef0123456789abcdef!", "0123456789abcdef0123456789abcdef!", true},
		{"0123456789abcdef0123456789abcdef!", "0123456789abcdef0123456789abcdef?", false},
	}
	for _, tt := range tests {
		if got := equal(tt.a, tt.b); got != tt.want {
			t.Errorf("equal(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
