// Package httpclient is the spore:httpclient provider: HttpClient.Request
// from an actor becomes an outbound HTTP request, but only to the hosts its
// link allows.
//
// Link values:
//
//	allowed_hosts  comma separated hosts the actor may reach (required):
//	               "api.example.com" (any port), "api.example.com:8443"
//	               (that port only), "*.example.com" (any subdomain, not
//	               example.com itself), IPs alike ("127.0.0.1:8080",
//	               "[::1]:8080")
//	timeout        the whole request, redirects and body included, such as
//	               10s; default 30s
//	max_body       the largest response body, such as 1MiB; default 10MiB
//
// Data enters through Handle ({method, url, header, body}) and leaves as
// {status, header, body}. Any status is an answer; an error is a refusal
// (a host not allowed: code denied, naming the host and the link value to
// change), a failure to connect (unavailable), a timeout, or a response
// larger than max_body. Redirects are followed (up to 10) only to allowed
// hosts. Only http and https URLs are served.
package httpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
)

// Name is the provider's registered name.
const Name = "httpclient"

func init() { providers.Register(Name, func() providers.Provider { return &Provider{} }) }

// Link value names.
const (
	ValueAllowedHosts = "allowed_hosts"
	ValueTimeout      = "timeout"
	ValueMaxBody      = "max_body"
)

// Defaults and limits.
const (
	DefaultTimeout = 30 * time.Second
	DefaultMaxBody = 10 << 20
	MaxRedirects   = 10
)

// Provider serves spore:httpclient. The zero value is ready to Start.
type Provider struct {
	mu        sync.RWMutex
	state     providers.State
	transport *http.Transport
	links     map[string]*config // by link key
}

// config is what a link's values say.
type config struct {
	allowed []hostRule
	list    string // as the link gave it, for errors
	timeout time.Duration
	maxBody int64
}

// hostRule is one entry of allowed_hosts.
type hostRule struct {
	host     string // lower case, without brackets; "*.x" for subdomains of x
	port     string // "" for any
	wildcard bool
}

// Interface guards
var (
	_ providers.Provider      = (*Provider)(nil)
	_ providers.LinkValidator = (*Provider)(nil)
)

// Name implements providers.Provider.
func (*Provider) Name() string { return Name }

// Contract implements providers.Provider.
func (*Provider) Contract() string { return spore.ContractHTTPClient }

// Start implements providers.Provider.
func (p *Provider) Start(context.Context, providers.Env) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.state.Start(p); err != nil {
		return err
	}
	p.transport = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	p.links = map[string]*config{}
	return nil
}

// ValidateLink implements providers.LinkValidator.
func (p *Provider) ValidateLink(l spore.Link) error {
	_, err := p.config(l)
	return err
}

func (p *Provider) config(l spore.Link) (*config, error) {
	if err := providers.CheckKeys(p, l, ValueAllowedHosts, ValueTimeout, ValueMaxBody); err != nil {
		return nil, err
	}
	c := &config{list: l.Values[ValueAllowedHosts]}
	entries := providers.ListValue(c.list)
	if len(entries) == 0 {
		return nil, providers.BadLink(p, l, "allowed_hosts is required: the hosts the actor may reach, such as allowed_hosts=api.example.com")
	}
	for _, e := range entries {
		r, err := parseRule(e)
		if err != nil {
			return nil, providers.BadLink(p, l, "allowed_hosts entry %q: %v", e, err)
		}
		c.allowed = append(c.allowed, r)
	}
	var err error
	if c.timeout, err = providers.DurationValue(p, l, ValueTimeout, DefaultTimeout); err != nil {
		return nil, err
	}
	if c.maxBody, err = providers.SizeValue(p, l, ValueMaxBody, DefaultMaxBody); err != nil {
		return nil, err
	}
	return c, nil
}

func parseRule(e string) (hostRule, error) {
	e = strings.ToLower(e)
	if strings.Contains(e, "://") || strings.ContainsAny(e, "/?#@ ") {
		return hostRule{}, errors.New("want a host or host:port, such as api.example.com or 127.0.0.1:8080, not a URL")
	}
	r := hostRule{host: e}
	if h, port, err := net.SplitHostPort(e); err == nil {
		r.host, r.port = h, port
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return r, fmt.Errorf("port %q is not a number", port)
		}
	} else if strings.Count(e, ":") > 1 { // a bare IPv6 address
		r.host = strings.Trim(e, "[]")
	}
	if strings.HasPrefix(r.host, "*.") {
		r.wildcard, r.host = true, r.host[1:] // ".example.com"
	}
	if r.host == "" || strings.Contains(r.host, "*") {
		return r, errors.New("want a host name or an IP; '*.' is allowed only at the start")
	}
	return r, nil
}

// allows reports whether the URL's host and port are allowed.
func (c *config) allows(u *url.URL) bool {
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, r := range c.allowed {
		if r.port != "" && r.port != port {
			continue
		}
		if r.wildcard && strings.HasSuffix(host, r.host) && len(host) > len(r.host) || !r.wildcard && host == r.host {
			return true
		}
	}
	return false
}

// notAllowed is the error for a host outside allowed_hosts.
func (c *config) notAllowed(u *url.URL, what string) error {
	return spore.Errorf(spore.CodeDenied,
		"httpclient: %s host %q is not in the link's allowed_hosts (%s): add it to the link value allowed_hosts with 'spore link put'",
		what, u.Host, c.list)
}

// PutLink implements providers.Provider.
func (p *Provider) PutLink(_ context.Context, l spore.Link) error {
	c, err := p.config(l)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.state.Check(p); err != nil {
		return err
	}
	p.links[l.Key()] = c
	return nil
}

// DeleteLink implements providers.Provider.
func (p *Provider) DeleteLink(_ context.Context, l spore.Link) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.links, l.Key())
	return nil
}

// Stop implements providers.Provider: it closes idle connections; requests
// in flight end with their callers' contexts.
func (p *Provider) Stop(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Stop() {
		p.transport.CloseIdleConnections()
		p.links = nil
	}
	return nil
}

// Handle implements providers.Provider: HttpClient.Request.
func (p *Provider) Handle(ctx context.Context, req *providers.Request) ([]byte, error) {
	op := req.Operation
	if op != spore.OpHTTPClientRequest {
		return nil, providers.UnknownOperation(p, op)
	}
	p.mu.RLock()
	err := p.state.Check(p)
	c, transport := p.links[req.Link.Key()], p.transport
	p.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, providers.NoLink(p, req.Link)
	}
	var in spore.OutboundRequest
	if err := providers.Decode(p, op, req.Payload, &in); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, transport, &in)
	if err != nil {
		return nil, err
	}
	return providers.Encode(p, op, resp)
}

// do sends one request under the link's rules.
func (c *config) do(ctx context.Context, transport http.RoundTripper, in *spore.OutboundRequest) (*spore.HTTPResponse, error) {
	u, err := url.Parse(in.URL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, spore.Errorf(spore.CodeBadRequest, "httpclient: url %q: want an absolute http or https URL", in.URL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, spore.Errorf(spore.CodeBadRequest, "httpclient: url %q: scheme %q: only http and https are served", in.URL, u.Scheme)
	}
	if !c.allows(u) {
		return nil, c.notAllowed(u, "request to")
	}
	method := in.Method
	if method == "" {
		method = http.MethodGet
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(in.Body))
	if err != nil {
		return nil, spore.Errorf(spore.CodeBadRequest, "httpclient: %s %s: %v", method, in.URL, err)
	}
	for k, vs := range in.Header {
		if strings.EqualFold(k, "Host") && len(vs) > 0 {
			hreq.Host = vs[0]
			continue
		}
		hreq.Header[http.CanonicalHeaderKey(k)] = vs
	}
	client := &http.Client{Transport: transport, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) >= MaxRedirects {
			return fmt.Errorf("stopped after %d redirects", MaxRedirects)
		}
		if !c.allows(r.URL) {
			return c.notAllowed(r.URL, "redirect to")
		}
		return nil
	}}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, c.failed(method, in.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, c.failed(method, in.URL, err)
	}
	if int64(len(body)) > c.maxBody {
		return nil, spore.Errorf(spore.CodeBadRequest,
			"httpclient: %s %s: the response body is larger than %d bytes (the link value max_body)", method, in.URL, c.maxBody)
	}
	return &spore.HTTPResponse{Status: uint16(resp.StatusCode), Header: resp.Header, Body: body}, nil
}

func (c *config) failed(method, u string, err error) error {
	var se *spore.Error
	if errors.As(err, &se) {
		return se // a refused redirect
	}
	code := spore.CodeUnavailable
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		code = spore.CodeTimeout
		err = fmt.Errorf("no complete answer within %s (the link value timeout): %w", c.timeout, err)
	}
	return spore.Errorf(code, "httpclient: %s %s: %w", method, u, err)
}
