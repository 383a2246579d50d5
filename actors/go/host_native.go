//go:build !wasip1

package actor

import (
	"bytes"
	"fmt"
	"os"
	"sync/atomic"
)

// HostFunc answers host calls off Wasm, standing in for the Spore host in
// unit tests. binding is the link name as the actor gave it ("" for the
// default link). An error it returns reaches the actor as a *[HostError]
// wrapping it.
type HostFunc func(binding, namespace, operation string, payload []byte) ([]byte, error)

var host atomic.Pointer[HostFunc]

// reuse is false natively: see buffer.
const reuse = false

// SetHost installs h as the host for host calls made off Wasm and returns a
// function that puts back the host it replaced:
//
//	defer actor.SetHost(fake)()
//
// With no host (nil), host calls fail with [ErrNoHost]. SetHost exists only
// off Wasm.
func SetHost(h HostFunc) (restore func()) {
	var p *HostFunc
	if h != nil {
		p = &h
	}
	old := host.Swap(p)
	return func() { host.Store(old) }
}

func hostCall(binding, namespace, operation string, payload []byte) ([]byte, error) {
	h := host.Load()
	if h == nil {
		return nil, &HostError{Binding: binding, Namespace: namespace, Operation: operation, Message: ErrNoHost.Error(), err: ErrNoHost}
	}
	resp, err := (*h)(binding, namespace, operation, payload)
	if err != nil {
		return nil, &HostError{Binding: binding, Namespace: namespace, Operation: operation, Message: err.Error(), err: err}
	}
	// A copy, as the host's response is on Wasm: what the SDK decodes from
	// it aliases it, and a HostFunc may answer from a buffer it reuses.
	return bytes.Clone(resp), nil
}

// ConsoleLog writes msg to the host log through waPC's __console_log. It
// needs no claim; prefer [Log], which carries a level. Off Wasm it writes a
// line to standard error.
func ConsoleLog(msg string) {
	fmt.Fprintln(os.Stderr, "actor console:", msg)
}
