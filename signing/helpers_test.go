package signing

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/spore-run/spore/internal/wasmbin"
)

var sentinels = []error{
	ErrNotWasm, ErrMalformed, ErrUnsigned, ErrBadSignature, ErrHashMismatch,
	ErrExpired, ErrNotYetValid, ErrUntrustedIssuer, ErrInvalidKey,
}

// section assembles one section: id, LEB128 size, contents.
func section(id byte, contents ...byte) []byte {
	out := []byte{id}
	out = wasmbin.AppendU32(out, uint32(len(contents)))
	return append(out, contents...)
}

// testModule is a hand-assembled module exporting "answer" () -> i32 that
// returns 42. codeConst is the offset of the 42.
func testModule() (module []byte, codeConst int) {
	m := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	m = append(m, section(1, 0x01, 0x60, 0x00, 0x01, 0x7f)...)                         // type: () -> i32
	m = append(m, section(3, 0x01, 0x00)...)                                           // function 0 has type 0
	m = append(m, section(7, 0x01, 0x06, 'a', 'n', 's', 'w', 'e', 'r', 0x00, 0x00)...) // export func 0
	m = append(m, section(10, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b)...)                  // i32.const 42; end
	return m, len(m) - 2
}

func mustKey(t testing.TB, kind KeyKind) nkeys.KeyPair {
	t.Helper()
	kp, err := NewKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func pub(t testing.TB, kp nkeys.KeyPair) string {
	t.Helper()
	p, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// withToken replaces the module's claims sections with one holding token.
func withToken(t testing.TB, module []byte, token string) []byte {
	t.Helper()
	m, err := StripCustom(module, claimsSection)
	if err != nil {
		t.Fatal(err)
	}
	m, err = AppendCustom(m, claimsSection, []byte(token))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rawToken signs arbitrary generic claims, bypassing Sign's checks.
func rawToken(t testing.TB, subject string, data map[string]any, signer nkeys.KeyPair) string {
	t.Helper()
	gc := jwt.NewGenericClaims(subject)
	for k, v := range data {
		gc.Data[k] = v
	}
	tok, err := gc.Encode(signer)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// editPayload rewrites a token's payload JSON and keeps its signature.
func editPayload(t testing.TB, token string, edit func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// checkSentinel asserts err wraps want and no other sentinel.
func checkSentinel(t testing.TB, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(err, %v) = %v; err: %v", s, got, err)
		}
	}
	if !strings.HasPrefix(err.Error(), "signing: ") {
		t.Errorf("error lacks the package prefix: %v", err)
	}
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func at(tm time.Time) func() time.Time { return func() time.Time { return tm } }
