// Command kitchen is the test actor of the host's tests: each operation
// exercises one thing a guest can do to its host, good or bad.
//
//	Echo      returns the payload
//	Fail      returns the error "kitchen: asked to fail"
//	Panic     panics: the runtime prints it to stderr and traps (unreachable)
//	Loop      spins forever without allocating (only a deadline stops it)
//	Grow      allocates and keeps memory until the instance dies: "fatal
//	          error: out of memory" on stderr, then the same trap
//	Log       writes the payload with Logging.Write at level info, returns "ok"
//	Stdout    prints the payload to stdout and to stderr, returns "ok"
//	HostCall  makes the raw host call described by its payload (below) and
//	          returns the response, or the host's error text as its error
//	Count     increments a global counter and returns it in decimal, so a
//	          test can see whether calls share an instance
//
// The payload of HostCall is a MessagePack map
// {binding: str, namespace: str, operation: str, payload: bin}.
//
// Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o kitchen.wasm ./test/actors/kitchen
//
// or from a test with [github.com/spore-run/spore/test/actors.Build].
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"

	actor "github.com/spore-run/spore/actors/go"
)

func init() {
	actor.Handle("Echo", echo)
	actor.Handle("Fail", fail)
	actor.Handle("Panic", panicking)
	actor.Handle("Loop", loop)
	actor.Handle("Grow", grow)
	actor.Handle("Log", logText)
	actor.Handle("Stdout", stdout)
	actor.Handle("HostCall", hostCall)
	actor.Handle("Count", count)
}

// main is never run: the host calls _initialize, which runs init above.
func main() {}

func echo(payload []byte) ([]byte, error) { return payload, nil }

func fail([]byte) ([]byte, error) { return nil, errors.New("kitchen: asked to fail") }

func panicking(payload []byte) ([]byte, error) {
	panic("kitchen: asked to panic: " + string(payload))
}

func loop([]byte) ([]byte, error) {
	//lint:ignore SA5002 spinning without allocating is the point: only the host's deadline may stop it
	for {
	}
}

// hoard keeps every allocation of Grow reachable.
var hoard [][]byte

func grow([]byte) ([]byte, error) {
	for {
		chunk := make([]byte, 1<<20)
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i] = 1 // touch every page so it is really committed
		}
		hoard = append(hoard, chunk)
	}
}

func logText(payload []byte) ([]byte, error) {
	if err := actor.Log.Write(actor.LevelInfo, string(payload)); err != nil {
		return nil, err
	}
	return []byte("ok"), nil
}

func stdout(payload []byte) ([]byte, error) {
	fmt.Println(string(payload))
	fmt.Fprintln(os.Stderr, string(payload))
	return []byte("ok"), nil
}

// hostCallRequest is the payload of HostCall.
type hostCallRequest struct {
	Binding   string `msgpack:"binding"`
	Namespace string `msgpack:"namespace"`
	Operation string `msgpack:"operation"`
	Payload   []byte `msgpack:"payload"`
}

func hostCall(payload []byte) ([]byte, error) {
	var req hostCallRequest
	if err := msgpack.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("kitchen: HostCall: decode payload: %w", err)
	}
	resp, err := actor.HostCall(req.Binding, req.Namespace, req.Operation, req.Payload)
	if err != nil {
		var he *actor.HostError
		if errors.As(err, &he) {
			return nil, errors.New(he.Message) // the host's text, unchanged
		}
		return nil, err
	}
	return resp, nil
}

var counter int

func count([]byte) ([]byte, error) {
	counter++
	return strconv.AppendInt(nil, int64(counter), 10), nil
}
