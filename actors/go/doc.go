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
//   - The payload a [Handler] receives is its own (one allocation per call);
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
//
// # Cost of a call
//
// A call's cost in a Go guest is mostly the branches it takes. Go compiles
// each function for Wasm as one loop that every jump between its blocks goes
// back to, and the host counts a budget down at the top of every loop (that
// is how it can stop a guest that loops): a few instructions for every
// function entered and every branch taken, a byte compared or searched for
// (strings.Index, ==) and a pointer stored in the heap (the branch past its
// write barrier) included. An allocation takes about 20 of them, a small map
// made and filled 60, a map ranged over 25, url.ParseQuery 150. (Before the
// host instrumented modules itself, each cost a call out to Go, 0.1 µs.) So the SDK's hot path (__guest_call, HandleHTTP's
// decoding and encoding) reads the common MessagePack forms inline, matches
// field names as 8-byte words, finds handlers without hashing, and makes
// one allocation for a small request (the header map takes two more);
// BenchmarkGuest in this package measures it in a real host. A handler that
// wants to be cheap does the same: fewer allocations, maps and loops per
// call, and values that never change (a response header, say) built once.
// examples/hello shows it. Build flags (-ldflags=-s -w, -gcflags=-B) and the
// garbage collector's pace (debug.SetGCPercent) change little: the collector
// takes a few percent of a request's time.
package actor
