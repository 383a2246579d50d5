// Command httpfloor is the floor of the HTTP provider benchmark: a bare
// net/http server answering what examples/hello answers, with nothing in
// between. bench/providers.sh runs wrk against it and against hello behind
// the HTTP provider.
//
//	httpfloor -addr 127.0.0.1:8090
package main

import (
	"flag"
	"log"
	"net/http"
	"net/url"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "where to listen")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name := "stranger"
			if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && q.Get("name") != "" {
				name = q.Get("name")
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("Hello from Spore!\nHello, " + name + "! You asked for " + r.Method + " " + r.URL.Path + ".\n"))
		}),
	}
	log.Fatal(srv.ListenAndServe())
}
