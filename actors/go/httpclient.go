package actor

import (
	spore "github.com/spore-run/spore"
)

// HTTPClientLink calls the spore:httpclient contract through one link. The
// zero value uses the default link.
type HTTPClientLink struct{ link string }

// HTTPClient returns the outbound HTTP client linked under link ("" for the
// default link). The actor needs the spore:httpclient claim and a link whose
// allowed_hosts lists the hosts it may reach.
func HTTPClient(link string) HTTPClientLink { return HTTPClientLink{link: link} }

// Do sends req and returns the response. Any status, 4xx and 5xx included, is
// a response, not an error; errors are host errors (a host not allowed, a
// connection failure).
func (c HTTPClientLink) Do(req *spore.OutboundRequest) (*spore.HTTPResponse, error) {
	return call(c.link, spore.ContractHTTPClient, spore.OpHTTPClientRequest, func(b []byte) []byte { return appendOutboundRequest(b, req) }, decodeHTTPResponse)
}
