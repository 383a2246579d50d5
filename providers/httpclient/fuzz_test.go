package httpclient

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzAllowed checks the allowed_hosts rules on arbitrary entries and URLs:
// a URL is allowed only when its host is an entry's host, or a subdomain of
// a wildcard entry.
func FuzzAllowed(f *testing.F) {
	f.Add("api.example.com", "https://api.example.com/x")
	f.Add("*.example.com:8443", "https://a.example.com:8443/")
	f.Add("[::1]:8080", "http://[::1]:8080/")
	f.Add("127.0.0.1", "http://127.0.0.1.evil.com/")
	f.Add("a", "http://user:pw@a:80/")
	f.Fuzz(func(t *testing.T, entry, raw string) {
		r, err := parseRule(entry)
		if err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		c := &config{allowed: []hostRule{r}}
		if !c.allows(u) {
			return
		}
		host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		if r.wildcard && !(strings.HasSuffix(host, r.host) && len(host) > len(r.host)) || !r.wildcard && host != r.host {
			t.Fatalf("entry %q allowed %q (host %q)", entry, raw, host)
		}
	})
}
