//go:build wasip1

package actor

import "unsafe"

// The waPC ABI (SPEC section 3). Pointers are offsets into the guest's linear
// memory; Go's heap lives there and does not move, so Go pointers are passed
// as they are. Lengths are i32.

//go:wasmimport wapc __guest_request
func guestRequest(opPtr, msgPtr unsafe.Pointer)

//go:wasmimport wapc __guest_response
func guestResponse(ptr unsafe.Pointer, n uint32)

//go:wasmimport wapc __guest_error
func guestError(ptr unsafe.Pointer, n uint32)

//go:wasmimport wapc __host_call
func wapcHostCall(bdPtr unsafe.Pointer, bdLen uint32, nsPtr unsafe.Pointer, nsLen uint32, opPtr unsafe.Pointer, opLen uint32, ptr unsafe.Pointer, n uint32) uint32

//go:wasmimport wapc __host_response_len
func hostResponseLen() uint32

//go:wasmimport wapc __host_response
func hostResponse(ptr unsafe.Pointer)

//go:wasmimport wapc __host_error_len
func hostErrorLen() uint32

//go:wasmimport wapc __host_error
func hostError(ptr unsafe.Pointer)

//go:wasmimport wapc __console_log
func consoleLog(ptr unsafe.Pointer, n uint32)

// reuse: the host copies what the guest hands it (a response, a host
// call's payload) before returning, so the buffers can serve the next call.
const reuse = true

// opBuf and msgBuf receive the operation name and the payload of each
// call. A handler that keeps the payload gets a copy (see operation.call).
var opBuf, msgBuf buffer

// sized returns the buffer with length n, and whether it is the caller's to
// keep: true when it had to be made and is too large to keep for reuse.
func (b *buffer) sized(n int) (p []byte, owned bool) {
	if cap(*b) >= n {
		return (*b)[:n], false
	}
	p = make([]byte, n)
	if n > maxKept {
		return p, true
	}
	*b = p
	return p, false
}

// guestCall serves one call from the host. The operation name and the
// payload arrive in buffers reused call after call; the response is handed
// to the host straight from the handler's slice.
//
//go:wasmexport __guest_call
//lint:ignore U1000 called by the host through the export
func guestCall(opLen, msgLen uint32) uint32 {
	op, _ := opBuf.sized(int(opLen))
	msg, owned := msgBuf.sized(int(msgLen))
	guestRequest(bytesPtr(op), bytesPtr(msg))

	o := lookup(unsafe.String(unsafe.SliceData(op), len(op))) // op is not written until the next call
	if o == nil {
		fail(noHandler(string(op)).Error())
		return 0
	}
	out, err := o.call(msg, owned)
	if err != nil {
		fail(err.Error())
		return 0
	}
	guestResponse(bytesPtr(out), uint32(len(out)))
	return 1
}

func fail(text string) {
	guestError(stringPtr(text), uint32(len(text)))
}

func hostCall(binding, namespace, operation string, payload []byte) ([]byte, error) {
	ok := wapcHostCall(
		stringPtr(binding), uint32(len(binding)),
		stringPtr(namespace), uint32(len(namespace)),
		stringPtr(operation), uint32(len(operation)),
		bytesPtr(payload), uint32(len(payload)),
	)
	if ok != 1 {
		msg := make([]byte, hostErrorLen())
		hostError(bytesPtr(msg))
		return nil, &HostError{Binding: binding, Namespace: namespace, Operation: operation, Message: string(msg)}
	}
	n := hostResponseLen()
	if n == 0 {
		return nil, nil
	}
	resp := make([]byte, n)
	hostResponse(bytesPtr(resp))
	return resp, nil
}

// ConsoleLog writes msg to the host log through waPC's __console_log. It
// needs no claim; prefer [Log], which carries a level.
func ConsoleLog(msg string) {
	consoleLog(stringPtr(msg), uint32(len(msg)))
}

func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

func stringPtr(s string) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.StringData(s))
}
