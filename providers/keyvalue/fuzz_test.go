package keyvalue

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// JetStream's rule for keys, as nats.go checks it.
var validJSKey = regexp.MustCompile(`^[-/_=a-zA-Z0-9]+$`)

// FuzzKeys checks that any key encodes to a valid JetStream key of one
// token, decodes back, keeps prefixes, and that decoding arbitrary bucket
// keys never panics.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{"user:1", "a.b", "=41", "ünï*?[]", "", "/x/", "a=", "=4"} {
		f.Add(s, "us")
	}
	f.Fuzz(func(t *testing.T, key, prefix string) {
		_, _ = decodeKey(key) // arbitrary bytes from a bucket
		if key == "" {
			return
		}
		enc := encodeKey(key)
		if !validJSKey.MatchString(enc) {
			t.Fatalf("encodeKey(%q) = %q, not a valid JetStream key", key, enc)
		}
		if dec, ok := decodeKey(enc); !ok || dec != key {
			t.Fatalf("decodeKey(encodeKey(%q)) = %q, %v", key, dec, ok)
		}
		if strings.HasPrefix(key, prefix) != strings.HasPrefix(enc, encodeKey(prefix)) {
			t.Fatalf("prefix %q of %q not kept by the encoding", prefix, key)
		}
	})
}

// FuzzAdd checks the integer parsing of Increment on JetStream.
func FuzzAdd(f *testing.F) {
	f.Add([]byte("41"), int64(1))
	f.Add([]byte("9223372036854775807"), int64(1))
	f.Add([]byte(" -3 "), int64(-9223372036854775807))
	f.Add([]byte("abc"), int64(0))
	f.Fuzz(func(t *testing.T, v []byte, delta int64) {
		n, err := add(v, delta)
		if err != nil {
			return
		}
		base, perr := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if perr != nil || n-delta != base || (delta > 0 && n < base) || (delta < 0 && n > base) {
			t.Fatalf("add(%q, %d) = %d, overflowed or misread", v, delta, n)
		}
	})
}
