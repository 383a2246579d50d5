package languages_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/lattice"
	_ "github.com/spore-run/spore/providers/httpserver"
	_ "github.com/spore-run/spore/providers/keyvalue"
)

// TestCounterEndToEnd runs every language's counter the way a user does:
// a lattice host with the httpserver and keyvalue providers, the signed
// actor pushed and started, linked to an HTTP address and a bucket of its
// own, and counted over real HTTP.
func TestCounterEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Wasm modules in five languages and runs a lattice")
	}
	ctx := context.Background()
	hub, err := lattice.Start(ctx, lattice.Options{
		Server:   lattice.ServerOptions{Listen: "127.0.0.1:-1", DataDir: t.TempDir()},
		CacheDir: cacheDir,
		Log:      quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close(context.Background()) })
	for _, name := range []string{"httpserver", "keyvalue"} {
		if _, err := hub.StartProvider(ctx, lattice.StartProvider{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := lattice.Connect(ctx, lattice.ClientOptions{URL: hub.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	s := testkit.NewSigner(t)

	for _, lang := range testkit.Languages {
		t.Run(lang, func(t *testing.T) {
			name := "counter-" + lang
			art, err := c.Push(ctx, s.Sign(t, testkit.Example(t, lang), name, counterCaps...), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.StartActor(ctx, lattice.StartActor{Ref: art.Ref}, nil, hub.ID()); err != nil {
				t.Fatal(err)
			}
			addr := testkit.FreeAddr(t)
			for _, l := range []spore.Link{
				{ActorID: name, Contract: spore.ContractKeyValue, Values: map[string]string{"bucket": "counter_" + lang}},
				{ActorID: name, Contract: spore.ContractHTTPServer, Values: map[string]string{"address": addr}},
			} {
				if _, err := c.PutLink(ctx, l); err != nil {
					t.Fatalf("link %s: %v", l.Contract, err)
				}
			}
			countTwice(t, "http://"+addr+"/hits")
		})
	}
}

// countTwice GETs url twice and wants {"count":1}, then {"count":2}.
// Links reach the host and the providers a moment after they are stored:
// until then the listener is closed, the route is not there yet (404), or
// the actor's Increment is refused for want of a link (502, and nothing is
// counted), so the first GET is retried while that is what it gets.
func countTwice(t *testing.T, url string) {
	t.Helper()
	var status int
	var ctype, body string
	testkit.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		status, ctype, body = read(t, resp)
		if (status == http.StatusBadGateway || status == http.StatusNotFound) && strings.Contains(body, "link") {
			return fmt.Errorf("not linked yet: %s", body)
		}
		return nil
	})
	for i, want := range []string{`{"count":1}`, `{"count":2}`} {
		if i > 0 {
			status, ctype, body = get(t, url)
		}
		if status != http.StatusOK || ctype != "application/json" || body != want {
			t.Fatalf("GET %s: %d %s %q, want 200 application/json %s", url, status, ctype, body, want)
		}
	}
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return read(t, resp)
}

func read(t *testing.T, resp *http.Response) (int, string, string) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", resp.Request.URL, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), strings.TrimSpace(string(b))
}
