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
func serveHTTP(req *spore.HTTPRequest) (*spore.HTTPResponse, error) {
	name := "stranger"
	if q, err := url.ParseQuery(req.Query); err == nil && q.Get("name") != "" {
		name = q.Get("name")
	}
	body := "Hello from Spore!\nHello, " + name + "! You asked for " + req.Method + " " + req.Path + ".\n"
	return &spore.HTTPResponse{
		Status: 200,
		Header: map[string][]string{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:   []byte(body),
	}, nil
}
