// Command uppercase answers requests over messaging: every message on its
// link's subscriptions (the README subscribes it to the subject uppercase)
// gets the body back upper-cased as the reply. Its operation Shout makes
// such a request itself, so a plain 'spore call' shows the round trip.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o uppercase.wasm .
//	spore sign uppercase.wasm -o uppercase_s.wasm --name uppercase --cap spore:messaging
package main

import (
	"bytes"
	"time"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

// Subject is where Shout sends its request; the link's subscriptions must
// include it for the actor to answer itself.
const Subject = "uppercase"

func init() {
	actor.HandleMessage(upper)
	actor.Handle("Shout", shout)
}

// main is never run: the host calls _initialize, which runs init above.
func main() {}

// upper is the reply to a message: its body, upper-cased. The provider
// sends it to the message's reply subject, if it has one.
func upper(m *spore.Message) ([]byte, error) {
	return bytes.ToUpper(m.Body), nil
}

// shout requests Subject with the payload and returns the reply's body.
func shout(payload []byte) ([]byte, error) {
	reply, err := actor.Messaging("").Request(Subject, payload, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return reply.Body, nil
}
