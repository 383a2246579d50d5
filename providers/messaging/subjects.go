package messaging

import (
	"errors"
	"fmt"
	"strings"
)

// Subject errors.
var (
	// ErrBadSubject means a string is not a NATS subject of the kind the
	// call needs (empty tokens, spaces, a wildcard where none may be).
	ErrBadSubject = errors.New("not a valid subject")
	// ErrReserved means the subject belongs to the lattice or the server
	// (spore.>, $JS.>, $SYS.>, ...), or a subscription could receive its
	// messages.
	ErrReserved = errors.New("subject is reserved for the lattice")
)

// MaxSubjectLen bounds a subject.
const MaxSubjectLen = 1024

// CheckPublish checks a subject an actor publishes or requests on, or names
// as reply_to: no wildcards, and not the lattice's.
func CheckPublish(subject string) error {
	tokens, err := split(subject)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if t == "*" || t == ">" {
			return fmt.Errorf("%q: %w: wildcards are for subscriptions", subject, ErrBadSubject)
		}
	}
	return reserved(subject, tokens[0], false)
}

// CheckSubscribe checks a subscription's subject: wildcards are allowed
// after a literal first token that is not the lattice's.
func CheckSubscribe(subject string) error {
	tokens, err := split(subject)
	if err != nil {
		return err
	}
	for i, t := range tokens {
		if t == ">" && i != len(tokens)-1 {
			return fmt.Errorf("%q: %w: '>' must be the last token", subject, ErrBadSubject)
		}
		if t != "*" && t != ">" && strings.ContainsAny(t, "*>") {
			return fmt.Errorf("%q: %w: a wildcard must be a whole token", subject, ErrBadSubject)
		}
	}
	if tokens[0] == "*" || tokens[0] == ">" {
		return fmt.Errorf("%q: %w: a wildcard first token would match spore.>; start with a literal token", subject, ErrReserved)
	}
	return reserved(subject, tokens[0], true)
}

func split(subject string) ([]string, error) {
	switch {
	case subject == "":
		return nil, fmt.Errorf("empty subject: %w", ErrBadSubject)
	case len(subject) > MaxSubjectLen:
		return nil, fmt.Errorf("subject of %d bytes: %w (the limit is %d)", len(subject), ErrBadSubject, MaxSubjectLen)
	case strings.ContainsAny(subject, " \t\r\n\x00"):
		return nil, fmt.Errorf("%q: %w: no spaces or control characters", subject, ErrBadSubject)
	}
	tokens := strings.Split(subject, ".")
	for _, t := range tokens {
		if t == "" {
			return nil, fmt.Errorf("%q: %w: empty token (a leading, trailing or double dot)", subject, ErrBadSubject)
		}
	}
	return tokens, nil
}

func reserved(subject, first string, subscribe bool) error {
	switch {
	case first == "spore":
		return fmt.Errorf("%q: %w: actors may never use spore.>", subject, ErrReserved)
	case strings.HasPrefix(first, "$"):
		return fmt.Errorf("%q: %w: subjects starting with $ belong to the NATS server ($JS, $KV, $SYS)", subject, ErrReserved)
	case subscribe && first == "_INBOX":
		return fmt.Errorf("%q: %w: subscribing to _INBOX.> would receive other clients' replies", subject, ErrReserved)
	}
	return nil
}
