// Package actor is the Go guest SDK for Spore actors: it turns Go functions
// into a waPC guest and gives them typed access to the host's contracts.
//
// An actor is a Go main package built as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
//
// Data enters through the export __guest_call: the host names an operation and
// hands over a payload, the SDK looks up the handler registered for that
// operation with [Handle], [HandleHTTP] or [HandleMessage], and the handler's
// result leaves through __guest_response (or its error through __guest_error).
// Handlers reach the outside world only through host calls: [HostCall] raw, or
// the typed helpers [KeyValue], [Messaging], [HTTPClient], [Log] and [Call],
// which encode payloads with MessagePack as SPEC section 5 and wit/ state.
//
// Register handlers in init:
//
//	func init() {
//		actor.Handle("Hello", func(name []byte) ([]byte, error) {
//			return []byte("Hello, " + string(name) + "!"), nil
//		})
//	}
//
//	func main() {} // required by the compiler, never run
//
// # Notes
//
//   - With -buildmode=c-shared, Go 1.24 and later export _initialize instead
//     of _start. The host calls it once per instance; it starts the runtime and
//     runs every package's init, but never main.main. A main package still has
//     to declare func main (the linker refuses one without it), so leave it
//     empty and register handlers in init.
//   - Handlers run one at a time per instance. A handler may block (sleep,
//     wait on a channel); goroutines it starts run only while some call is in
//     progress, so wait for them before returning.
//   - A panic is not recovered: after one the actor's state cannot be
//     trusted. The Go runtime prints the panic and its stack to stderr and
//     executes the Wasm instruction unreachable, so the host sees a trap,
//     drops the instance and makes a new one. Running out of memory ends the
//     same way ("fatal error: out of memory" on stderr, then the trap). An
//     actor that wants to survive a panic recovers in its own handler.
//   - The payload a handler receives is its own (one allocation per call);
//     the response it returns is handed to the host without a copy.
//   - The typed helpers encode and decode the contracts' MessagePack by hand,
//     without reflection (msgpack's reflection was most of a Go guest's time
//     per request). What they decode shares the payload's memory: the
//     strings and body of an [spore.HTTPRequest], say, are views of it, so
//     a handler that keeps one small string keeps the whole payload alive;
//     copy it (strings.Clone) to keep it alone.
//   - Off Wasm (any GOOS other than wasip1) the package builds a native
//     fallback so actors can be unit-tested with go test: [Dispatch] runs a
//     registered handler and [SetHost] plugs in a fake host for host calls.
package actor
