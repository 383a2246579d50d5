package actor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	spore "github.com/spore-run/spore"
)

// ErrNoHandler is returned (and reported to the host as the guest error) when
// a call names an operation that has no registered handler.
var ErrNoHandler = errors.New("actor: no handler")

// Handler handles one operation. It owns payload and may keep it; the slice it
// returns is the response payload and must not be changed after return.
type Handler func(payload []byte) ([]byte, error)

// handlers are the registered operations. They are written during package
// initialization and read by calls, which on Wasm are never concurrent. A
// call finds its handler by a scan that compares names 8 bytes at a time:
// an actor has a few operations, and hashing the name for a map costs a Go
// guest more (see "Cost of a call" in the package doc).
var handlers []operation

// operation is a registered handler: handler, which gets a payload of its
// own, or (from HandleHTTP) borrow, which gets the payload in whatever
// buffer the call has it and copies what it keeps, sparing an allocation.
type operation struct {
	name    string
	handler Handler
	borrow  func(payload []byte, owned bool) ([]byte, error)
}

// call runs the operation on payload; owned says whether the handler may
// keep it, or the caller will reuse it.
func (o *operation) call(payload []byte, owned bool) ([]byte, error) {
	if o.borrow != nil {
		return o.borrow(payload, owned)
	}
	if !owned && len(payload) > 0 {
		payload = clone(payload)
	}
	return o.handler(payload)
}

// clone copies b; make and copy take fewer branches than append's growth.
func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// Handle registers h for the operation op. Call it from init. A later Handle
// for the same op replaces the earlier handler, which lets tests swap one.
func Handle(op string, h Handler) {
	if h == nil {
		panic("actor: Handle needs an operation name and a handler")
	}
	register(operation{name: op, handler: h})
}

func register(o operation) {
	if o.name == "" {
		panic("actor: Handle needs an operation name and a handler")
	}
	for i := range handlers {
		if handlers[i].name == o.name {
			handlers[i] = o
			return
		}
	}
	handlers = append(handlers, o)
}

// lookup returns the operation registered as op, or nil.
func lookup(op string) *operation {
	for i := range handlers {
		if o := &handlers[i]; len(o.name) == len(op) && equal(op, o.name) {
			return o
		}
	}
	return nil
}

// equal reports whether a and b, of the same length, are equal. Names of 8
// to 32 bytes are compared as four overlapping 8-byte words, without the
// loop turn a byte that the runtime's comparison takes.
func equal(a, b string) bool {
	n := len(b)
	if n < 8 || n > 32 {
		return a == b
	}
	p, q := unsafe.Slice(unsafe.StringData(a), n), unsafe.Slice(unsafe.StringData(b), n)
	le := binary.LittleEndian
	x := (le.Uint64(p) ^ le.Uint64(q)) | (le.Uint64(p[n-8:]) ^ le.Uint64(q[n-8:]))
	if n > 16 {
		x |= (le.Uint64(p[8:]) ^ le.Uint64(q[8:])) | (le.Uint64(p[n-16:]) ^ le.Uint64(q[n-16:]))
	}
	return x == 0
}

// respBuf holds the encoded response of HandleHTTP's handler.
var respBuf buffer

// buffer is a byte slice reused call after call on Wasm, where the host
// copies what the guest hands it before returning. Natively each use starts
// a new slice, so that what Dispatch returns, and the payloads a HostFunc
// gets, stay the caller's.
type buffer []byte

// start returns the buffer emptied, to append to.
func (b *buffer) start() []byte {
	if reuse {
		return (*b)[:0]
	}
	return nil
}

// keep keeps p for the next use if it grew (up to maxKept: one large
// response must not hold its memory for the instance's life), and returns
// it. It stores only when the buffer grew: in a Go guest every pointer
// stored in the heap takes a branch to skip its write barrier.
func (b *buffer) keep(p []byte) []byte {
	if reuse && cap(p) > cap(*b) && cap(p) <= maxKept {
		*b = p
	}
	return p
}

// maxKept is the largest buffer kept for reuse.
const maxKept = 64 << 10

// HandleHTTP registers h for HttpServer.HandleRequest (contract
// spore:httpserver). A nil response answers 200 with no body, and a zero
// Status means 200, as with net/http.
func HandleHTTP(h func(*spore.HTTPRequest) (*spore.HTTPResponse, error)) {
	register(operation{name: spore.OpHTTPHandleRequest, borrow: func(payload []byte, owned bool) ([]byte, error) {
		req, err := decodeHTTPRequest(payload, owned)
		if err != nil {
			return nil, fmt.Errorf("actor: %s: decode request: %w", spore.OpHTTPHandleRequest, err)
		}
		resp, err := h(req)
		if err != nil {
			return nil, err
		}
		var out spore.HTTPResponse // a copy: the handler's value is left as it was
		if resp != nil {
			out = *resp
		}
		if out.Status == 0 {
			out.Status = 200
		}
		return respBuf.keep(appendHTTPResponse(respBuf.start(), &out)), nil
	}})
}

// HandleMessage registers h for Messaging.HandleMessage (contract
// spore:messaging): messages arriving on the link's subscriptions. What h
// returns is the reply body; it is sent only when the message has a reply
// subject, and may be empty.
func HandleMessage(h func(*spore.Message) ([]byte, error)) {
	Handle(spore.OpMsgHandleMessage, func(payload []byte) ([]byte, error) {
		msg, err := decodeMessage(payload)
		if err != nil {
			return nil, fmt.Errorf("actor: %s: decode message: %w", spore.OpMsgHandleMessage, err)
		}
		return h(msg)
	})
}

// Dispatch runs the handler registered for op, as a call from the host would.
// It is how actors are unit-tested without Wasm; see [SetHost] for their host
// calls. On Wasm, the response of a [HandleHTTP] handler is written in a
// buffer that the next such call reuses.
func Dispatch(op string, payload []byte) ([]byte, error) {
	o := lookup(op)
	if o == nil {
		return nil, noHandler(op)
	}
	return o.call(payload, true)
}

func noHandler(op string) error {
	return fmt.Errorf("%w for operation %s", ErrNoHandler, op)
}
