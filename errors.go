package spore

import (
	"errors"
	"fmt"
)

// Code is a stable error code. Errors that cross the lattice carry one, so a
// caller on another host (or written in another language) can tell a denial
// from a crash without parsing text.
type Code string

const (
	CodeDenied      Code = "denied"       // no claim or no link for the call
	CodeNotFound    Code = "not_found"    // no such actor, provider, link or artifact
	CodeActorFailed Code = "actor_failed" // the guest trapped, ran out of memory or returned an error
	CodeTimeout     Code = "timeout"      // the deadline passed
	CodeBadRequest  Code = "bad_request"  // the caller's input is malformed
	CodeUnavailable Code = "unavailable"  // nobody serves the target right now
	CodeInternal    Code = "internal"     // anything else
)

// Error is an error with a stable code.
type Error struct {
	Code    Code   `json:"code" msgpack:"code"`
	Message string `json:"message" msgpack:"message"`
	err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the error this one was made from, if it was made locally.
func (e *Error) Unwrap() error { return e.err }

// Errorf makes an *Error with a code and a formatted message; %w works.
func Errorf(code Code, format string, args ...any) *Error {
	return NewError(code, fmt.Errorf(format, args...))
}

// NewError gives err a code. The message is err's; errors.Is and errors.As
// see through to err.
func NewError(code Code, err error) *Error {
	return &Error{Code: code, Message: err.Error(), err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or CodeInternal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
