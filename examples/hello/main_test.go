//go:build !wasip1

package main

import (
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

// The actor runs natively here: Dispatch calls its handlers as the host would,
// and a fake host collects its log lines.
func TestHello(t *testing.T) {
	var logged []string
	restore := actor.SetHost(func(_, ns, op string, payload []byte) ([]byte, error) {
		var e spore.LogEntry
		if ns == spore.ContractLogging && op == spore.OpLoggingWrite && msgpack.Unmarshal(payload, &e) == nil {
			logged = append(logged, e.Level+" "+e.Text)
		}
		return nil, nil
	})
	defer restore()

	tests := []struct{ in, want string }{
		{"world", "Hello, world!"},
		{"  Ada \n", "Hello, Ada!"},
		{"", "Hello, world!"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			out, err := actor.Dispatch("Hello", []byte(tt.in))
			if err != nil || string(out) != tt.want {
				t.Fatalf("Hello(%q) = %q, %v; want %q", tt.in, out, err, tt.want)
			}
		})
	}
	if len(logged) != len(tests) || logged[0] != "info greeting world" {
		t.Errorf("logged %q", logged)
	}
}

func TestHTTP(t *testing.T) {
	tests := []struct {
		name, path, query string
		want              []string
	}{
		{"named", "/greet", "name=Ada&x=1", []string{"Hello from Spore!", "Hello, Ada!", "GET /greet"}},
		{"anonymous", "/", "", []string{"Hello from Spore!", "Hello, stranger!", "GET /"}},
		{"escaped", "/e", "x=1&name=Ada+L%C3%B3pez", []string{"Hello, Ada López!", "GET /e"}},
		{"empty name", "/e", "name=&name=Bob", []string{"Hello, stranger!"}},
		{"bad escape", "/e", "name=%zz", []string{"Hello, stranger!"}},
		{"other keys only", "/e", "names=Ada&nam=Bob", []string{"Hello, stranger!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := msgpack.Marshal(&spore.HTTPRequest{Method: "GET", Path: tt.path, Query: tt.query})
			out, err := actor.Dispatch(spore.OpHTTPHandleRequest, req)
			if err != nil {
				t.Fatal(err)
			}
			var resp spore.HTTPResponse
			if err := msgpack.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || !strings.HasPrefix(resp.Header["Content-Type"][0], "text/plain") {
				t.Errorf("status %d, header %v", resp.Status, resp.Header)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(resp.Body), w) {
					t.Errorf("body %q lacks %q", resp.Body, w)
				}
			}
		})
	}
}
