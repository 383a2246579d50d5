//go:build !wasip1

package main

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
)

func TestUpper(t *testing.T) {
	msg, _ := msgpack.Marshal(&spore.Message{Subject: "uppercase", ReplyTo: "_INBOX.x", Body: []byte("hello, world")})
	out, err := actor.Dispatch(spore.OpMsgHandleMessage, msg)
	if err != nil || string(out) != "HELLO, WORLD" {
		t.Fatalf("%q, %v", out, err)
	}
}

// Shout's request goes to the messaging provider; a fake host answers it
// as the subscribed actor would.
func TestShout(t *testing.T) {
	defer actor.SetHost(func(_, ns, op string, payload []byte) ([]byte, error) {
		var req spore.RequestMessage
		if ns != spore.ContractMessaging || op != spore.OpMsgRequest || msgpack.Unmarshal(payload, &req) != nil || req.Subject != Subject {
			t.Fatalf("unexpected host call %s %s", ns, op)
		}
		in, _ := msgpack.Marshal(&spore.Message{Subject: req.Subject, Body: req.Body})
		body, err := actor.Dispatch(spore.OpMsgHandleMessage, in)
		if err != nil {
			return nil, err
		}
		return msgpack.Marshal(&spore.Message{Subject: "_INBOX.reply", Body: body})
	})()
	out, err := actor.Dispatch("Shout", []byte("quiet please"))
	if err != nil || string(out) != "QUIET PLEASE" {
		t.Fatalf("%q, %v", out, err)
	}
}
