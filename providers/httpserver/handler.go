package httpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spore-run/spore"
)

// writeGrace is how long after the actor's timeout the answer may still
// take to write (a 504 included).
const writeGrace = 5 * time.Second

// ServeHTTP routes one request to its actor and writes the actor's answer.
func (ls *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := ls.match(r.Host, r.URL.Path)
	if rt == nil {
		fail(w, http.StatusNotFound, spore.CodeNotFound,
			"no actor is linked for host %q path %s on %s: put a link with 'spore link put ACTOR spore:httpserver address=%s'",
			r.Host, r.URL.Path, ls.addr, ls.addr)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(rt.timeout))
	_ = rc.SetWriteDeadline(time.Now().Add(rt.timeout + writeGrace))
	body, err := readBody(r, rt.maxBody)
	if errors.Is(err, errTooLarge) {
		fail(w, http.StatusRequestEntityTooLarge, spore.CodeBadRequest,
			"the request body is larger than %d bytes (the link value max_body)", rt.maxBody)
		return
	}
	if err != nil {
		fail(w, http.StatusBadRequest, spore.CodeBadRequest, "reading the request body: %v", err)
		return
	}
	payload := appendRequest(make([]byte, 0, 256+len(body)), r, body)
	ctx, cancel := context.WithTimeout(r.Context(), rt.timeout)
	out, err := ls.p.env.Invoke(ctx, rt.link.ActorID, spore.OpHTTPHandleRequest, payload)
	timedOut := ctx.Err() == context.DeadlineExceeded
	cancel()
	if err != nil {
		actorFailed(w, r, rt, err, timedOut)
		return
	}
	writeResponse(w, rt.link.ActorID, out)
}

var errTooLarge = errors.New("body too large")

// readBody reads at most max bytes of the body.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > 0 {
		b := make([]byte, r.ContentLength)
		_, err := io.ReadFull(r.Body, b)
		return b, err
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// actorFailed answers for an actor that could not answer: 504 when it ran
// out of time, 503 when nothing serves it, 502 otherwise.
func actorFailed(w http.ResponseWriter, r *http.Request, rt *route, err error, timedOut bool) {
	code := spore.CodeOf(err)
	switch {
	case timedOut || code == spore.CodeTimeout:
		fail(w, http.StatusGatewayTimeout, spore.CodeTimeout,
			"actor %s did not answer within %s (the link value timeout): %v", rt.link.ActorID, rt.timeout, err)
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	case code == spore.CodeUnavailable || code == spore.CodeNotFound:
		fail(w, http.StatusServiceUnavailable, code, "actor %s is not available: %v", rt.link.ActorID, err)
	default:
		fail(w, http.StatusBadGateway, code, "actor %s failed: %v", rt.link.ActorID, err)
	}
}

// writeResponse decodes the actor's answer and writes it. A malformed
// answer or a status outside 200-599 is the actor's failure: 502.
func writeResponse(w http.ResponseWriter, actorID string, out []byte) {
	resp, err := decodeResponse(out)
	if err != nil {
		fail(w, http.StatusBadGateway, spore.CodeActorFailed, "actor %s returned a malformed response: %v", actorID, err)
		return
	}
	status := int(resp.Status)
	if status == 0 {
		status = http.StatusOK
	}
	if status < 200 || status > 599 {
		fail(w, http.StatusBadGateway, spore.CodeActorFailed, "actor %s returned status %d; want 200 to 599", actorID, status)
		return
	}
	h := w.Header()
	for k, vs := range resp.Header {
		if !validHeaderName(k) || hopByHop[http.CanonicalHeaderKey(k)] {
			continue
		}
		h[http.CanonicalHeaderKey(k)] = vs
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp.Body)
}

// hopByHop are headers of one connection, which net/http manages; an
// actor's values for them are dropped.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true,
	"Upgrade": true, "Te": true, "Trailer": true, "Content-Length": true,
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// fail answers with a status, a text/plain body saying why, and the stable
// error code in X-Spore-Error.
func fail(w http.ResponseWriter, status int, code spore.Code, format string, args ...any) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Spore-Error", string(code))
	w.WriteHeader(status)
	fmt.Fprintf(w, "spore: "+format+"\n", args...)
}
