// Package httpserver is the spore:httpserver provider: it listens for HTTP
// and calls the linked actor's HttpServer.HandleRequest for each request.
//
// Link values:
//
//	address      host:port to listen on (required); "0.0.0.0:8080" for every
//	             interface, "127.0.0.1:8080" for this machine only
//	host         serve only requests whose Host header is this name (the
//	             port in the header is ignored unless host has one)
//	path_prefix  serve only paths under this prefix ("/api" serves /api and
//	             /api/..., not /apix); default "/"
//	max_body     the largest request body, such as 1MiB; default 10MiB.
//	             A larger one is answered 413 without calling the actor
//	timeout      how long the actor may take, such as 5s; default 30s. A
//	             slower answer is 504
//
// Several links may name one address: the provider opens one listener and
// routes each request to the link whose path_prefix is the longest that
// matches; for the same prefix, a link with host beats one without. Two
// links with the same address, host and path_prefix are ambiguous and the
// second is refused. The path reaches the actor whole, prefix included.
//
// Data enters as an HTTP request: method, path, raw query, headers (every
// value, Host included) and body become the actor's spore.HTTPRequest; the
// actor's spore.HTTPResponse (status, headers, body) becomes the answer.
// When the actor fails the answer is 502, when it is too slow 504, when it
// does not run anywhere 503; each with a text/plain body saying why and an
// X-Spore-Error header carrying the stable error code.
//
// Deleting the last link of an address closes its listener; requests in
// flight finish first (up to ShutdownGrace).
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
)

// Name is the provider's registered name.
const Name = "httpserver"

func init() { providers.Register(Name, func() providers.Provider { return &Provider{} }) }

// Link value names.
const (
	ValueAddress    = "address"
	ValueHost       = "host"
	ValuePathPrefix = "path_prefix"
	ValueMaxBody    = "max_body"
	ValueTimeout    = "timeout"
)

// Defaults and fixed limits.
const (
	DefaultMaxBody = 10 << 20
	DefaultTimeout = 30 * time.Second
	// ShutdownGrace is how long a closing listener waits for requests in
	// flight.
	ShutdownGrace = 5 * time.Second
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// IdleTimeout closes keep-alive connections left idle this long.
	IdleTimeout = 2 * time.Minute
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes = 1 << 20
)

// Provider serves spore:httpserver. The zero value is ready to Start.
type Provider struct {
	mu        sync.Mutex
	state     providers.State
	env       providers.Env
	listeners map[string]*listener // by normalized address
	routes    map[string]*route    // by link key

	wg sync.WaitGroup // serving and shutting-down goroutines
}

// route is one applied link.
type route struct {
	key     string
	link    spore.Link
	addr    string // normalized
	host    string // lower case; "" for any
	prefix  string // "/" or "/a/b" without a trailing slash
	maxBody int64
	timeout time.Duration
}

func (r *route) sameAs(o *route) bool {
	return r.addr == o.addr && r.host == o.host && r.prefix == o.prefix &&
		r.maxBody == o.maxBody && r.timeout == o.timeout && r.link.ActorID == o.link.ActorID
}

// listener is one open address and its routes.
type listener struct {
	p      *Provider
	addr   string
	ln     net.Listener
	srv    *http.Server
	routes []*route                 // guarded by Provider.mu
	table  atomic.Pointer[[]*route] // what requests read: routes, best first
}

// Interface guards
var (
	_ providers.Provider      = (*Provider)(nil)
	_ providers.LinkValidator = (*Provider)(nil)
	_ http.Handler            = (*listener)(nil)
)

// Name implements providers.Provider.
func (*Provider) Name() string { return Name }

// Contract implements providers.Provider.
func (*Provider) Contract() string { return spore.ContractHTTPServer }

// Start implements providers.Provider. It opens nothing until a link names
// an address.
func (p *Provider) Start(_ context.Context, env providers.Env) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if env.Invoke == nil {
		return errors.New("httpserver: start: the Env has no Invoke to call actors with")
	}
	if err := p.state.Start(p); err != nil {
		return err
	}
	p.env = env
	p.listeners = map[string]*listener{}
	p.routes = map[string]*route{}
	return nil
}

// ValidateLink implements providers.LinkValidator: it checks the values
// alone. PutLink also finds what depends on the machine (a port in use)
// and on other links (an ambiguous route).
func (p *Provider) ValidateLink(l spore.Link) error {
	_, err := p.parse(l)
	return err
}

func (p *Provider) parse(l spore.Link) (*route, error) {
	if err := providers.CheckKeys(p, l, ValueAddress, ValueHost, ValuePathPrefix, ValueMaxBody, ValueTimeout); err != nil {
		return nil, err
	}
	r := &route{key: l.Key(), link: l}
	addr, err := normalizeAddress(l.Values[ValueAddress])
	if err != nil {
		return nil, providers.BadLink(p, l, "address=%q: %v", l.Values[ValueAddress], err)
	}
	r.addr = addr
	r.host = strings.ToLower(strings.TrimSpace(l.Values[ValueHost]))
	if strings.ContainsAny(r.host, "/ \t") {
		return nil, providers.BadLink(p, l, "host=%q: want a host name such as example.com", r.host)
	}
	r.prefix = l.Values[ValuePathPrefix]
	if r.prefix == "" {
		r.prefix = "/"
	}
	if !strings.HasPrefix(r.prefix, "/") || strings.ContainsAny(r.prefix, "?# \t") {
		return nil, providers.BadLink(p, l, "path_prefix=%q: want a path starting with /, such as /api", r.prefix)
	}
	if len(r.prefix) > 1 {
		r.prefix = strings.TrimRight(r.prefix, "/")
		if r.prefix == "" {
			r.prefix = "/"
		}
	}
	if r.maxBody, err = providers.SizeValue(p, l, ValueMaxBody, DefaultMaxBody); err != nil {
		return nil, err
	}
	if r.timeout, err = providers.DurationValue(p, l, ValueTimeout, DefaultTimeout); err != nil {
		return nil, err
	}
	return r, nil
}

// normalizeAddress checks host:port and writes an empty host as 0.0.0.0,
// so ":8080" and "0.0.0.0:8080" are one listener.
func normalizeAddress(a string) (string, error) {
	if a == "" {
		return "", errors.New("required: the host:port to listen on, such as 127.0.0.1:8080")
	}
	h, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", errors.New("want host:port, such as 127.0.0.1:8080 or 0.0.0.0:8080")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q: want 1 to 65535", port)
	}
	if h == "" {
		h = "0.0.0.0"
	}
	return net.JoinHostPort(strings.ToLower(h), strconv.Itoa(n)), nil
}

// PutLink implements providers.Provider: it opens the address if no link
// has it open yet, and routes requests to the actor. It fails when the
// address cannot be opened (a port in use) or the route is already another
// link's.
func (p *Provider) PutLink(_ context.Context, l spore.Link) error {
	r, err := p.parse(l)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.state.Check(p); err != nil {
		return err
	}
	old := p.routes[r.key]
	if old != nil && old.sameAs(r) {
		return nil
	}
	ls := p.listeners[r.addr]
	if ls != nil {
		for _, o := range ls.routes {
			if o.key != r.key && o.host == r.host && o.prefix == r.prefix {
				return spore.Errorf(spore.CodeBadRequest,
					"httpserver: address %s host %q path_prefix %s is already routed to actor %s (%s): give this link another host or path_prefix",
					r.addr, r.host, r.prefix, o.link.ActorID, o.link.Contract)
			}
		}
	} else {
		if ls, err = p.listen(r.addr); err != nil {
			return err
		}
	}
	if old != nil {
		p.unroute(old)
	}
	ls.routes = append(ls.routes, r)
	ls.publish()
	p.routes[r.key] = r
	return nil
}

// listen opens addr and starts serving it. p.mu is held.
func (p *Provider) listen(addr string) (*listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var hint string
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = ": another program (or another link's host) has the port; free it or choose another address"
		}
		return nil, spore.Errorf(spore.CodeUnavailable, "httpserver: listen on %s: %v%s", addr, err, hint)
	}
	ls := &listener{p: p, addr: addr, ln: ln}
	ls.srv = &http.Server{
		Handler:           ls,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(p.log().Handler(), slog.LevelDebug),
	}
	ls.publish()
	p.listeners[addr] = ls
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = ls.srv.Serve(ln) // returns when the listener closes
	}()
	p.log().Info("http listener opened", "address", addr)
	return ls, nil
}

// unroute removes a route, closing its listener when it was the last one.
// p.mu is held.
func (p *Provider) unroute(r *route) {
	delete(p.routes, r.key)
	ls := p.listeners[r.addr]
	if ls == nil {
		return
	}
	for i, o := range ls.routes {
		if o == r {
			ls.routes = append(ls.routes[:i:i], ls.routes[i+1:]...)
			break
		}
	}
	ls.publish()
	if len(ls.routes) == 0 {
		delete(p.listeners, r.addr)
		p.close(ls)
	}
}

// close stops accepting at once (so the port is free again) and lets the
// requests in flight finish in the background. p.mu is held.
func (p *Provider) close(ls *listener) {
	_ = ls.ln.Close()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
		defer cancel()
		if ls.srv.Shutdown(ctx) != nil {
			_ = ls.srv.Close()
		}
	}()
	p.log().Info("http listener closed", "address", ls.addr)
}

// DeleteLink implements providers.Provider.
func (p *Provider) DeleteLink(_ context.Context, l spore.Link) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.routes[l.Key()]; r != nil {
		p.unroute(r)
	}
	return nil
}

// Handle implements providers.Provider. Actors do not call this provider:
// it calls them.
func (p *Provider) Handle(_ context.Context, req *providers.Request) ([]byte, error) {
	return nil, providers.UnknownOperation(p, req.Operation)
}

// Stop implements providers.Provider: it closes every listener and waits
// for the requests in flight, up to ShutdownGrace.
func (p *Provider) Stop(context.Context) error {
	p.mu.Lock()
	if p.state.Stop() {
		for _, ls := range p.listeners {
			p.close(ls)
		}
		p.listeners, p.routes = nil, nil
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

func (p *Provider) log() *slog.Logger {
	if p.env.Log != nil {
		return p.env.Log
	}
	return slog.Default()
}

// publish makes the routes, best first, what new requests see.
// Provider.mu is held.
func (ls *listener) publish() {
	t := append([]*route(nil), ls.routes...)
	sort.SliceStable(t, func(i, j int) bool {
		if len(t[i].prefix) != len(t[j].prefix) {
			return len(t[i].prefix) > len(t[j].prefix)
		}
		return t[i].host != "" && t[j].host == ""
	})
	ls.table.Store(&t)
}

// match finds the route for a request: the longest matching prefix, a
// route with host before one without.
func (ls *listener) match(host, path string) *route {
	for _, r := range *ls.table.Load() {
		if r.host != "" && !hostMatches(r.host, host) {
			continue
		}
		if r.prefix == "/" || path == r.prefix || strings.HasPrefix(path, r.prefix) && path[len(r.prefix)] == '/' {
			return r
		}
	}
	return nil
}

// hostMatches compares a link's host with a Host header, ignoring the
// header's port unless the link's host names one.
func hostMatches(want, header string) bool {
	header = strings.ToLower(header)
	if strings.Contains(want, ":") {
		return want == header
	}
	if h, _, err := net.SplitHostPort(header); err == nil {
		header = h
	}
	return want == strings.Trim(header, "[]")
}
