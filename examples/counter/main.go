// Command counter is the counter actor in Go: every HTTP request adds one to
// a counter kept in the key-value store under the request's path, and the
// answer is the new count as JSON, {"count":N}. It needs the claims
// spore:httpserver and spore:keyvalue and a link for each; see README.md.
//
// The same actor is written in Rust, AssemblyScript, C and WAT next to this
// folder (examples/counter-*); docs/languages.md compares them.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o counter.wasm .
//	spore sign counter.wasm -o counter_s.wasm --name counter --cap spore:httpserver --cap spore:keyvalue
package main

import (
	"strconv"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

func init() {
	actor.HandleHTTP(count)
}

// main is never run: the host calls _initialize, which runs init above.
func main() {}

// count increments the path's counter atomically and answers the new value.
// A key-value failure (no link, the store down) becomes the actor's error,
// which the HTTP provider answers with 502 and the reason.
func count(req *spore.HTTPRequest) (*spore.HTTPResponse, error) {
	n, err := actor.KeyValue("").Increment(req.Path, 1)
	if err != nil {
		return nil, err
	}
	return &spore.HTTPResponse{
		Status: 200,
		Header: map[string][]string{"Content-Type": {"application/json"}},
		Body:   append(strconv.AppendInt([]byte(`{"count":`), n, 10), '}'),
	}, nil
}
