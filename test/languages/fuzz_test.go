package languages_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/host"
	"github.com/spore-run/spore/internal/testkit"
)

// FuzzCounters sends arbitrary bytes as the payload of
// HttpServer.HandleRequest to the counter of every language: each SDK's
// MessagePack reader is a parser of untrusted input. Whatever the bytes, the
// call must end (answer or error) within its deadline, an error must be a
// *spore.Error that names the actor, and the actor must serve a valid
// request right after.
func FuzzCounters(f *testing.F) {
	if testing.Short() {
		f.Skip("builds Wasm modules in five languages")
	}
	ctx := context.Background()
	s := testkit.NewSigner(f)
	h, err := host.New(ctx, hostConfig().WithRouter(answerOne).WithLinks(linkAll))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { h.Close(ctx) })
	actors := map[string]*host.Actor{}
	for _, lang := range testkit.Languages {
		a, err := h.Load(ctx, s.Sign(f, testkit.Example(f, lang), "counter-"+lang, counterCaps...),
			host.Limits{MaxInstances: 1, Timeout: 5 * time.Second})
		if err != nil {
			f.Fatal(err)
		}
		actors[lang] = a
	}
	valid := request(f, "/a")
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte{0xc1})
	f.Add([]byte{0xc0})
	f.Add([]byte{0x81, 0xa4, 'p', 'a', 't', 'h', 0xdb, 0xff, 0xff, 0xff, 0xff})     // str32 longer than the input
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff})                                     // map32 of 4G pairs
	f.Add([]byte{0x81, 0xa6, 'h', 'e', 'a', 'd', 'e', 'r', 0xde, 0xff, 0xff})       // header map16 with no pairs present
	f.Add([]byte{0x81, 0xa1, 'x', 0xdd, 0x7f, 0xff, 0xff, 0xff})                    // unknown key, huge array to skip
	f.Add(append([]byte{0x81, 0xa1, 'x'}, []byte(strings.Repeat("\x91", 5000))...)) // deep nesting to skip
	f.Add(append(valid[:len(valid):len(valid)], 0xc1, 0xc1))
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, lang := range testkit.Languages {
			a := actors[lang]
			_, err := a.Invoke(ctx, spore.OpHTTPHandleRequest, payload)
			var se *spore.Error
			if err != nil && (!errors.As(err, &se) || !strings.Contains(err.Error(), "counter-"+lang)) {
				t.Fatalf("%s: error %v is not a *spore.Error naming the actor", lang, err)
			}
			if spore.CodeOf(err) == spore.CodeTimeout {
				t.Fatalf("%s: %x did not end within the deadline: %v", lang, payload, err)
			}
			if _, err := a.Invoke(ctx, spore.OpHTTPHandleRequest, valid); err != nil {
				t.Fatalf("%s: after %x, a valid request fails: %v", lang, payload, err)
			}
		}
	})
}
