// Command contracts calls every typed helper of the Go SDK once, for
// test/languages: Contracts.Run reports what each call returned, one line
// per call, and Messaging.HandleMessage echoes the message it gets.
package main

import (
	"fmt"
	"strings"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

func init() {
	actor.Handle("Contracts.Run", run)
	actor.HandleMessage(func(m *spore.Message) ([]byte, error) {
		return []byte(m.Subject + "|" + m.ReplyTo + "|" + string(m.Body)), nil
	})
}

func main() {}

func run([]byte) ([]byte, error) {
	var out []string
	line := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	kv := actor.KeyValue("")
	v, ok, err := kv.Get("k")
	check(err)
	line("get %s %t", v, ok)
	check(kv.Set("k", []byte("v"), 7e9))
	line("set")
	deleted, err := kv.Delete("k")
	check(err)
	line("delete %t", deleted)
	exists, err := kv.Exists("k")
	check(err)
	line("exists %t", exists)
	n, err := kv.Increment("n", -3)
	check(err)
	line("increment %d", n)
	keys, err := kv.Keys("p")
	check(err)
	line("keys %s", strings.Join(keys, ","))
	bus := actor.Messaging("bus")
	check(bus.Publish("s", "r", []byte("b")))
	line("publish")
	reply, err := bus.Request("s", []byte("q"), 250e6)
	check(err)
	line("request %s %s", reply.Subject, reply.Body)
	resp, err := actor.HTTPClient("").Do(&spore.OutboundRequest{
		Method: "GET", URL: "http://x/", Header: map[string][]string{"A": {"1", "2"}}, Body: []byte("hb"),
	})
	check(err)
	line("http %d %s %s", resp.Status, resp.Header["B"][0], resp.Body)
	check(actor.Log.Write(actor.LevelWarn, "w"))
	line("log")
	pong, err := actor.Call("other", "Ping", []byte("p"))
	check(err)
	line("call %s", pong)
	_, _, err = kv.Get("denied")
	line("denied %v", err)
	return []byte(strings.Join(out, "\n")), nil
}

// check panics on an error the test does not expect: the host then reports
// a trap, and the test fails on it.
func check(err error) {
	if err != nil {
		panic(err)
	}
}
