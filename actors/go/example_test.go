//go:build !wasip1

package actor_test

import (
	"fmt"

	spore "github.com/spore-run/spore"
	actor "github.com/spore-run/spore/actors/go"
	"github.com/vmihailenco/msgpack/v5"
)

// An actor registers its operations in init. In a test, Dispatch calls them
// the way the host would.
func ExampleDispatch() {
	actor.Handle("Hello", func(name []byte) ([]byte, error) {
		return []byte("Hello, " + string(name) + "!"), nil
	})

	out, err := actor.Dispatch("Hello", []byte("world"))
	fmt.Println(string(out), err)

	_, err = actor.Dispatch("Goodbye", nil)
	fmt.Println(err)
	// Output:
	// Hello, world! <nil>
	// actor: no handler for operation Goodbye
}

// SetHost stands in for the Spore host, so an actor's host calls can be tested
// natively.
func ExampleSetHost() {
	counts := map[string]int64{}
	restore := actor.SetHost(func(binding, ns, op string, payload []byte) ([]byte, error) {
		if ns != spore.ContractKeyValue || op != spore.OpKVIncrement {
			return nil, fmt.Errorf("unexpected %s %s", ns, op)
		}
		var req spore.IncrementRequest
		if err := msgpack.Unmarshal(payload, &req); err != nil {
			return nil, err
		}
		counts[req.Key] += req.Delta
		return msgpack.Marshal(counts[req.Key])
	})
	defer restore()

	actor.Handle("Visit", func([]byte) ([]byte, error) {
		n, err := actor.KeyValue("").Increment("visits", 1)
		return []byte(fmt.Sprint("visit number ", n)), err
	})
	actor.Dispatch("Visit", nil)
	out, _ := actor.Dispatch("Visit", nil)
	fmt.Println(string(out))
	// Output: visit number 2
}
