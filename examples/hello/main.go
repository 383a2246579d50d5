// Command hello is the smallest useful Spore actor: it greets over HTTP
// (HttpServer.HandleRequest) and answers the plain operation Hello.
//
// Build it as a WASI reactor, sign it, run it:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
//	spore sign hello.wasm -o hello_s.wasm --name hello --cap spore:logging
//	spore run hello_s.wasm Hello world
//
// See README.md for serving it over HTTP.
package main

import (
	"net/url"
	"strings"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

func init() {
	actor.Handle("Hello", hello)
	actor.HandleHTTP(serveHTTP)
}

// main is never run: the host calls _initialize, which runs init above.
func main() {}

// hello answers "Hello, NAME!" to a payload holding a name.
func hello(payload []byte) ([]byte, error) {
	name := strings.TrimSpace(string(payload))
	if name == "" {
		name = "world"
	}
	actor.Log.Info("greeting " + name)
	return []byte("Hello, " + name + "!"), nil
}

// serveHTTP greets the caller by the name query parameter and echoes the path.
// It is written to be cheap, as the SDK's package doc explains: every
// allocation, map and loop turn costs a Go guest dearly, so the header is
// built once, the name is found without url.ParseQuery's map, and the body
// is made in one allocation.
func serveHTTP(req *spore.HTTPRequest) (*spore.HTTPResponse, error) {
	name := queryValue(req.Query, "name")
	if name == "" {
		name = "stranger"
	}
	const greeting, asked = "Hello from Spore!\nHello, ", "! You asked for "
	body := make([]byte, 0, len(greeting)+len(name)+len(asked)+len(req.Method)+len(req.Path)+3)
	body = append(append(body, greeting...), name...)
	body = append(append(append(body, asked...), req.Method...), ' ')
	body = append(append(body, req.Path...), ".\n"...)
	return &spore.HTTPResponse{Status: 200, Header: textPlain, Body: body}, nil
}

// textPlain is the header of every answer. The SDK only reads a response's
// header, so one map serves every call.
var textPlain = map[string][]string{"Content-Type": {"text/plain; charset=utf-8"}}

// queryValue returns the first value of key in a URL query, unescaped, or ""
// if it has none or cannot be unescaped. Unlike url.ParseQuery, it looks at
// no other pair, so a malformed one elsewhere does not hide the name.
func queryValue(query, key string) string {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if k, v, _ := strings.Cut(pair, "="); k == key {
			v, err := url.QueryUnescape(v)
			if err != nil {
				return ""
			}
			return v
		}
	}
	return ""
}
