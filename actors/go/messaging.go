package actor

import (
	"time"

	spore "github.com/spore-run/spore"
)

// MessagingLink calls the spore:messaging contract through one link. The zero
// value uses the default link.
type MessagingLink struct{ link string }

// Messaging returns the message broker linked under link ("" for the default
// link). The actor needs the spore:messaging claim and a link. Subjects under
// spore.> belong to the lattice and are refused.
func Messaging(link string) MessagingLink { return MessagingLink{link: link} }

// Publish sends body on subject; replyTo may be empty.
func (m MessagingLink) Publish(subject, replyTo string, body []byte) error {
	msg := spore.Message{Subject: subject, ReplyTo: replyTo, Body: body}
	_, err := invoke(m.link, spore.ContractMessaging, spore.OpMsgPublish, func(b []byte) []byte { return appendMessage(b, &msg) })
	return err
}

// Request sends body on subject and waits up to timeout for one reply. A
// timeout of zero or less leaves the deadline to the provider; a positive one
// is rounded up to whole milliseconds.
func (m MessagingLink) Request(subject string, body []byte, timeout time.Duration) (*spore.Message, error) {
	req := spore.RequestMessage{Subject: subject, Body: body, TimeoutMs: millis(timeout)}
	return call(m.link, spore.ContractMessaging, spore.OpMsgRequest, func(b []byte) []byte { return appendRequestMessage(b, &req) }, decodeMessage)
}
