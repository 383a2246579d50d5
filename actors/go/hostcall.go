package actor

import (
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
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

// invoke encodes in, makes a host call and decodes the response into out;
// either may be nil (no payload, response ignored).
func invoke(binding, contract, op string, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = msgpack.Marshal(in); err != nil {
			return fmt.Errorf("actor: %s: encode: %w", op, err)
		}
	}
	resp, err := hostCall(binding, contract, op, payload)
	if err != nil {
		return err
	}
	if out != nil {
		if err := msgpack.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("actor: %s: decode response: %w", op, err)
		}
	}
	return nil
}
