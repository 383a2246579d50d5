// Command counter counts visits: each HTTP request adds one to a counter in
// the key-value store and answers {"count": N} as JSON. It needs the claims
// spore:httpserver and spore:keyvalue and a link for each; see README.md.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o counter.wasm .
//	spore sign counter.wasm -o counter_s.wasm --name counter --cap spore:httpserver --cap spore:keyvalue
package main

import (
	"strconv"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

// Key is the key the count is kept under.
const Key = "count"

func init() {
	actor.HandleHTTP(count)
}

// main is never run: the host calls _initialize, which runs init above.
func main() {}

// count increments the counter atomically and reports the new value. A
// key-value failure (no link, the store down) becomes the actor's error,
// which the HTTP provider answers with 502 and the reason.
func count(*spore.HTTPRequest) (*spore.HTTPResponse, error) {
	n, err := actor.KeyValue("").Increment(Key, 1)
	if err != nil {
		return nil, err
	}
	body := strconv.AppendInt([]byte(`{"count": `), n, 10)
	return &spore.HTTPResponse{
		Status: 200,
		Header: map[string][]string{"Content-Type": {"application/json"}},
		Body:   append(body, "}\n"...),
	}, nil
}
