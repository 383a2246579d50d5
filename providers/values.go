package providers

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
)

// Helpers the built-in providers share to read link values and payloads, so
// every provider refuses bad input with the same kind of message.

// BadLink makes the error for a link whose values cannot work: it has the
// code bad_request, names the provider and the link, and wraps ErrBadLink.
func BadLink(p Provider, l spore.Link, format string, args ...any) error {
	return spore.Errorf(spore.CodeBadRequest, "%s: link of %s (%s, link name %q): %s: %w",
		p.Name(), l.ActorID, l.Contract, spore.LinkName(l.LinkName), fmt.Sprintf(format, args...), ErrBadLink)
}

// CheckKeys refuses link values the provider does not know, which are
// usually typos ("adress"), naming the ones it knows.
func CheckKeys(p Provider, l spore.Link, known ...string) error {
	var unknown []string
	for k := range l.Values {
		if !contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return BadLink(p, l, "unknown link value %s (known: %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DurationValue reads a link value such as "30s" or "2m"; a bare number is
// seconds. Missing means def. The value must be positive.
func DurationValue(p Provider, l spore.Link, key string, def time.Duration) (time.Duration, error) {
	v, ok := l.Values[key]
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseUint(v, 10, 32)
		if nerr != nil {
			return 0, BadLink(p, l, "%s=%q: want a duration such as 30s or 2m", key, v)
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 {
		return 0, BadLink(p, l, "%s=%q: want a positive duration", key, v)
	}
	return d, nil
}

// SizeValue reads a size in bytes: a number with an optional suffix KiB,
// MiB, GiB (or K, M, G, KB, MB, GB, all powers of 1024). Missing means def.
// The value must be positive.
func SizeValue(p Provider, l spore.Link, key string, def int64) (int64, error) {
	v, ok := l.Values[key]
	if !ok || v == "" {
		return def, nil
	}
	n, err := ParseSize(v)
	if err != nil || n <= 0 {
		return 0, BadLink(p, l, "%s=%q: want a positive size in bytes such as 1048576, 512KiB or 10MiB", key, v)
	}
	return n, nil
}

// ParseSize parses a byte size such as "10MiB" (see SizeValue).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	upper := strings.ToUpper(s)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(upper, u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %s is too large", s)
	}
	return n * mult, nil
}

// ListValue splits a comma separated link value, trimming spaces and
// dropping empty items.
func ListValue(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Decode reads a MessagePack payload into v, refusing garbage with a
// bad_request error that names the provider and the operation.
func Decode(p Provider, op string, payload []byte, v any) error {
	if len(payload) == 0 {
		return spore.Errorf(spore.CodeBadRequest, "%s: %s: empty payload", p.Name(), op)
	}
	if err := msgpack.Unmarshal(payload, v); err != nil {
		return spore.Errorf(spore.CodeBadRequest, "%s: %s: malformed payload: %w", p.Name(), op, err)
	}
	return nil
}

// Encode writes a response as MessagePack.
func Encode(p Provider, op string, v any) ([]byte, error) {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return nil, spore.Errorf(spore.CodeInternal, "%s: %s: encode response: %w", p.Name(), op, err)
	}
	return b, nil
}

// NotStarted is the error for a call that came before Start or after Stop.
func NotStarted(p Provider) error {
	return spore.Errorf(spore.CodeUnavailable, "%s: %w", p.Name(), ErrNotStarted)
}

// NoLink is the error for a call through a link the provider does not hold
// (never put, or deleted).
func NoLink(p Provider, l spore.Link) error {
	return spore.Errorf(spore.CodeDenied, "%s: no link of %s for %s (link name %q) is applied here: put one with 'spore link put': %w",
		p.Name(), l.ActorID, p.Contract(), spore.LinkName(l.LinkName), ErrNoLink)
}

// State tracks where a provider is in its lifecycle, for the checks every
// provider makes. The zero value is "not started". Guard it with the
// provider's lock.
type State struct{ started, stopped bool }

// Start moves to started; a provider starts once.
func (s *State) Start(p Provider) error {
	switch {
	case s.stopped:
		return fmt.Errorf("%s: Start after Stop: make a new provider", p.Name())
	case s.started:
		return fmt.Errorf("%s: already started", p.Name())
	}
	s.started = true
	return nil
}

// Check returns NotStarted unless the provider is started and not stopped.
func (s *State) Check(p Provider) error {
	if !s.started || s.stopped {
		return NotStarted(p)
	}
	return nil
}

// Stop moves to stopped. It reports whether the provider was running, so
// the caller releases what Start made exactly once.
func (s *State) Stop() bool {
	running := s.started && !s.stopped
	s.stopped = true
	return running
}
