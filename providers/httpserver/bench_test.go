package httpserver_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/providers/httpserver"
	"github.com/spore-run/spore/providers/providertest"
)

// BenchmarkServe times one request through the provider to the probe actor
// over loopback HTTP with keep-alive: the provider's whole path with next
// to no guest work (and the client's share of HTTP).
func BenchmarkServe(b *testing.B) {
	pr := providertest.NewProbe(b)
	a := pr.Load(b, "web")
	p := &httpserver.Provider{}
	if err := p.Start(context.Background(), pr.Env()); err != nil {
		b.Fatal(err)
	}
	defer p.Stop(context.Background())
	addr := testkit.FreeAddr(b)
	l := spore.Link{ActorID: a.ID(), Contract: spore.ContractHTTPServer, Values: map[string]string{"address": addr}}
	if err := p.PutLink(context.Background(), l); err != nil {
		b.Fatal(err)
	}
	body := providertest.AnswerHTTP(&spore.HTTPResponse{Status: 200, Header: map[string][]string{"Content-Type": {"text/plain"}}, Body: []byte("Hello from Spore!\n")})
	c := &http.Client{}
	url := "http://" + addr + "/greet?name=Ada"
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Post(url, "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			var buf [64]byte
			n, _ := resp.Body.Read(buf[:])
			resp.Body.Close()
			if resp.StatusCode != 200 || n == 0 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
