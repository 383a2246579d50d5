package actor

import (
	"errors"
	"fmt"
)

// ErrNoHost is the cause of a host call made off Wasm before [SetHost].
var ErrNoHost = errors.New("actor: no host (call SetHost in tests)")

// HostError is a host call that the host refused or that failed: no claim or
// no link for the contract, a provider error, an unknown target actor, or
// (off Wasm) an error of the [HostFunc].
type HostError struct {
	Binding   string // link name, "" for the default link
	Namespace string // contract id, or target actor id or call alias
	Operation string
	Message   string // the host's error text, as the host wrote it
	err       error  // the native HostFunc's error; nil on Wasm
}

func (e *HostError) Error() string {
	return "actor: " + e.Namespace + " " + e.Operation + ": " + e.Message
}

// Unwrap returns the error of the native [HostFunc], if any.
func (e *HostError) Unwrap() error { return e.err }

// HostCall calls the host: operation on namespace (a contract id such as
// spore:keyvalue, or another actor's id or call alias) through the link named
// binding ("" for the default link), with a raw payload. It returns the raw
// response, or a *[HostError].
func HostCall(binding, namespace, operation string, payload []byte) ([]byte, error) {
	return hostCall(binding, namespace, operation, payload)
}

// Call calls operation on another actor, named by its id or call alias. The
// caller needs the spore:actor claim.
func Call(actor, operation string, payload []byte) ([]byte, error) {
	return hostCall("", actor, operation, payload)
}

// callBuf holds the payload of the host call being made.
var callBuf buffer

// invoke makes a host call with a payload that encode appends to the
// buffer it is given.
func invoke(binding, contract, op string, encode func([]byte) []byte) ([]byte, error) {
	return hostCall(binding, contract, op, callBuf.keep(encode(callBuf.start())))
}

// call makes a host call as invoke does and reads the response with decode.
func call[T any](binding, contract, op string, encode func([]byte) []byte, decode func([]byte) (T, error)) (T, error) {
	resp, err := invoke(binding, contract, op, encode)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := decode(resp)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("actor: %s: decode response: %w", op, err)
	}
	return v, nil
}
