package keyvalue

import "strings"

// JetStream keys allow only [-/_=.A-Za-z0-9], and dots split them into
// subject tokens. encodeKey keeps letters, digits, '-', '_' and '/' and
// writes every other byte as =XX (upper-case hex), so any string is a valid
// key of one token. The code is prefix-free byte by byte: a key starts with
// a prefix exactly when its encoding starts with the prefix's encoding.

const hexDigits = "0123456789ABCDEF"

func plain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '/'
}

func encodeKey(key string) string {
	n := 0
	for i := 0; i < len(key); i++ {
		if !plain(key[i]) {
			n++
		}
	}
	if n == 0 {
		return key
	}
	var b strings.Builder
	b.Grow(len(key) + 2*n)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// decodeKey reverses encodeKey; ok is false for a key encodeKey cannot
// have made (written to the bucket by something else).
func decodeKey(s string) (string, bool) {
	if !strings.Contains(s, "=") {
		for i := 0; i < len(s); i++ {
			if !plain(s[i]) {
				return "", false
			}
		}
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case plain(c):
			b.WriteByte(c)
		case c == '=' && i+2 < len(s):
			hi, lo := strings.IndexByte(hexDigits, s[i+1]), strings.IndexByte(hexDigits, s[i+2])
			if hi < 0 || lo < 0 || plain(byte(hi<<4|lo)) {
				return "", false // not hex, or not how encodeKey writes it
			}
			b.WriteByte(byte(hi<<4 | lo))
			i += 2
		default:
			return "", false
		}
	}
	return b.String(), true
}
