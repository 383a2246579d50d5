package signing

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/tetratelabs/wazero"
)

func TestSignVerifyRoundtrip(t *testing.T) {
	module, _ := testModule()
	account := mustKey(t, KindAccount)
	actor := pub(t, mustKey(t, KindActor))
	in := Claims{
		ID:        actor,
		Name:      "counter",
		Version:   "1.2.0",
		Revision:  3,
		Tags:      []string{"demo"},
		Caps:      []string{"spore:keyvalue", "spore:logging"},
		CallAlias: "counter-v1",
		Expires:   t0.Add(time.Hour + 500*time.Millisecond),
		NotBefore: t0.Add(-time.Hour),
		Hash:      "ignored",
	}
	before := time.Now().Truncate(time.Second)
	signed, got, err := Sign(module, in, account)
	if err != nil {
		t.Fatal(err)
	}
	wantHash, _ := ModuleHash(module)
	if got.Hash != wantHash {
		t.Errorf("Hash = %s, want %s", got.Hash, wantHash)
	}
	if got.Issuer != pub(t, account) || got.ID != actor {
		t.Errorf("keys = %s/%s", got.Issuer, got.ID)
	}
	if got.IssuedAt.Before(before) || got.IssuedAt.After(time.Now()) {
		t.Errorf("IssuedAt = %v, want about now", got.IssuedAt)
	}
	if !got.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("Expires = %v, want truncated to the second", got.Expires)
	}

	v, err := Verify(signed, VerifyOptions{Now: at(t0), TrustedIssuers: []string{pub(t, account)}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "counter" || v.Version != "1.2.0" || v.Revision != 3 || v.CallAlias != "counter-v1" ||
		!slices.Equal(v.Tags, in.Tags) || !slices.Equal(v.Caps, in.Caps) ||
		!v.NotBefore.Equal(t0.Add(-time.Hour)) || v.Token != got.Token || !v.IssuedAt.Equal(got.IssuedAt) {
		t.Errorf("verified claims %+v differ from signed %+v", v, got)
	}
	if !v.HasCap("spore:keyvalue") || v.HasCap("spore:httpclient") {
		t.Error("HasCap wrong")
	}
	d, err := DecodeToken(got.Token + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if d.Hash != got.Hash || d.ID != got.ID {
		t.Errorf("DecodeToken = %+v", d)
	}

	// The signed module is still a module wazero compiles.
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	if _, err := r.CompileModule(ctx, signed); err != nil {
		t.Fatalf("wazero rejects the signed module: %v", err)
	}
}

func TestResignReplacesSection(t *testing.T) {
	module, _ := testModule()
	account := mustKey(t, KindAccount)
	c := Claims{ID: pub(t, mustKey(t, KindActor)), Name: "a", Revision: 1}
	first, c1, err := Sign(module, c, account)
	if err != nil {
		t.Fatal(err)
	}
	c.Revision = 2
	second, c2, err := Sign(first, c, account)
	if err != nil {
		t.Fatal(err)
	}
	secs, err := ParseSections(second)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range secs {
		if s.ID == 0 && s.Name == claimsSection {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d spore_jwt sections after two signs, want 1", n)
	}
	if c1.Hash != c2.Hash {
		t.Errorf("hash changed on re-sign: %s -> %s", c1.Hash, c2.Hash)
	}
	v, err := Verify(second, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Revision != 2 || !IsNewer(c1, v) {
		t.Errorf("re-signed revision %d, IsNewer %v", v.Revision, IsNewer(c1, v))
	}
}

func TestVerifyErrors(t *testing.T) {
	module, codeConst := testModule()
	account := mustKey(t, KindAccount)
	other := mustKey(t, KindAccount)
	actorKP := mustKey(t, KindActor)
	actor := pub(t, actorKP)
	hash, _ := ModuleHash(module)

	sign := func(c Claims) []byte {
		t.Helper()
		if c.ID == "" {
			c.ID = actor
		}
		if c.Name == "" {
			c.Name = "x"
		}
		m, _, err := Sign(module, c, account)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	signed := sign(Claims{})
	_, good, _ := Sign(module, Claims{ID: actor, Name: "x"}, account)
	_, otherTok, _ := Sign(module, Claims{ID: actor, Name: "x"}, other)
	sporeData := map[string]any{"type": claimType, "spore": map[string]any{"name": "x", "hash": hash}}
	parts := strings.Split(good.Token, ".")
	otherParts := strings.Split(otherTok.Token, ".")
	userJWT, err := jwt.NewUserClaims(actor).Encode(account)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		module []byte
		opts   VerifyOptions
		want   error
	}{
		{"not wasm", []byte("hello, world"), VerifyOptions{}, ErrNotWasm},
		{"empty", nil, VerifyOptions{}, ErrNotWasm},
		{"component", []byte{0, 'a', 's', 'm', 0x0d, 0, 1, 0}, VerifyOptions{}, ErrNotWasm},
		{"truncated", signed[:len(signed)-10], VerifyOptions{}, ErrMalformed},
		{"unsigned", module, VerifyOptions{}, ErrUnsigned},
		{"two sections", func() []byte {
			m, _ := AppendCustom(signed, claimsSection, []byte(good.Token))
			return m
		}(), VerifyOptions{}, ErrMalformed},
		{"tampered code", func() []byte {
			m := slices.Clone(signed)
			m[codeConst] = 43
			return m
		}(), VerifyOptions{}, ErrHashMismatch},
		{"extra section added", func() []byte {
			m, _ := AppendCustom(signed, "name", []byte{0})
			return m
		}(), VerifyOptions{}, ErrHashMismatch},
		{"signature from another key", withToken(t, module, parts[0]+"."+parts[1]+"."+otherParts[2]), VerifyOptions{}, ErrBadSignature},
		{"issuer swapped", withToken(t, module, editPayload(t, good.Token, func(m map[string]any) { m["iss"] = pub(t, other) })), VerifyOptions{}, ErrBadSignature},
		{"edited claims", withToken(t, module, editPayload(t, good.Token, func(m map[string]any) {
			m["nats"].(map[string]any)["spore"].(map[string]any)["caps"] = []string{"spore:httpclient"}
		})), VerifyOptions{}, ErrBadSignature},
		{"edited expiry", withToken(t, module, editPayload(t, good.Token, func(m map[string]any) { m["exp"] = 1 })), VerifyOptions{}, ErrBadSignature},
		{"not a jwt", withToken(t, module, "garbage"), VerifyOptions{}, ErrBadSignature},
		{"huge token", withToken(t, module, strings.Repeat("a", maxTokenLen+1)), VerifyOptions{}, ErrBadSignature},
		{"bad base64", withToken(t, module, "!!.!!.!!"), VerifyOptions{}, ErrBadSignature},
		{"v1 algorithm", withToken(t, module, "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5In0."+parts[1]+"."+parts[2]), VerifyOptions{}, ErrBadSignature},
		{"expired", sign(Claims{Expires: t0}), VerifyOptions{Now: at(t0.Add(time.Second))}, ErrExpired},
		{"expires now", sign(Claims{Expires: t0}), VerifyOptions{Now: at(t0)}, ErrExpired},
		{"not yet valid", sign(Claims{NotBefore: t0}), VerifyOptions{Now: at(t0.Add(-time.Nanosecond))}, ErrNotYetValid},
		{"untrusted issuer", signed, VerifyOptions{TrustedIssuers: []string{pub(t, other)}}, ErrUntrustedIssuer},
		{"subject not a key", withToken(t, module, rawToken(t, "counter", sporeData, account)), VerifyOptions{}, ErrInvalidKey},
		{"subject an account key", withToken(t, module, rawToken(t, pub(t, other), sporeData, account)), VerifyOptions{}, ErrInvalidKey},
		{"issuer a user key", withToken(t, module, rawToken(t, actor, sporeData, actorKP)), VerifyOptions{}, ErrInvalidKey},
		{"nats user jwt", withToken(t, module, userJWT), VerifyOptions{}, ErrMalformed},
		{"no spore data", withToken(t, module, rawToken(t, actor, map[string]any{"type": claimType}, account)), VerifyOptions{}, ErrMalformed},
		{"bad hash field", withToken(t, module, rawToken(t, actor, map[string]any{"type": claimType, "spore": map[string]any{"name": "x", "hash": "ABC"}}, account)), VerifyOptions{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Verify(tt.module, tt.opts)
			if c != nil {
				t.Errorf("claims returned with error: %+v", c)
			}
			checkSentinel(t, err, tt.want)
			t.Log(err)
		})
	}

	// The sentinel blocks nothing that is valid at the edges of the window.
	for _, now := range []time.Time{t0, t0.Add(time.Hour - time.Nanosecond)} {
		m := sign(Claims{NotBefore: t0, Expires: t0.Add(time.Hour)})
		if _, err := Verify(m, VerifyOptions{Now: at(now)}); err != nil {
			t.Errorf("at %v: %v", now, err)
		}
	}
}

func TestHashMismatchMessage(t *testing.T) {
	module, codeConst := testModule()
	signed, _, err := Sign(module, Claims{ID: pub(t, mustKey(t, KindActor)), Name: "x"}, mustKey(t, KindAccount))
	if err != nil {
		t.Fatal(err)
	}
	signed[codeConst]++
	_, err = Verify(signed, VerifyOptions{})
	if msg := err.Error(); !strings.HasPrefix(msg, "signing: hash mismatch: module bytes changed after signing (claims say ") || !strings.HasSuffix(msg, "; sign it again") {
		t.Errorf("message = %q", msg)
	}
}

func TestSignRejects(t *testing.T) {
	module, _ := testModule()
	account := mustKey(t, KindAccount)
	actor := pub(t, mustKey(t, KindActor))
	publicOnly, _ := nkeys.FromPublicKey(pub(t, account))
	ok := Claims{ID: actor, Name: "x"}
	with := func(f func(*Claims)) Claims { c := ok; f(&c); return c }

	tests := []struct {
		name    string
		module  []byte
		claims  Claims
		issuer  nkeys.KeyPair
		want    error // nil: any error
		wantMsg string
	}{
		{"no issuer", module, ok, nil, nil, "no issuer"},
		{"issuer not an account", module, ok, mustKey(t, KindActor), ErrInvalidKey, "not an account key"},
		{"issuer without seed", module, ok, publicOnly, nil, "no seed"},
		{"subject not an actor", module, with(func(c *Claims) { c.ID = pub(t, account) }), account, ErrInvalidKey, "not an actor id"},
		{"empty subject", module, with(func(c *Claims) { c.ID = "" }), account, ErrInvalidKey, "not an actor id"},
		{"empty name", module, with(func(c *Claims) { c.Name = " " }), account, nil, "name is empty"},
		{"negative revision", module, with(func(c *Claims) { c.Revision = -1 }), account, nil, "negative"},
		{"cap without colon", module, with(func(c *Claims) { c.Caps = []string{"keyvalue"} }), account, nil, "not a contract id"},
		{"empty tag", module, with(func(c *Claims) { c.Tags = []string{""} }), account, nil, "empty tag"},
		{"alias with colon", module, with(func(c *Claims) { c.CallAlias = "a:b" }), account, nil, "call alias"},
		{"alias with dot", module, with(func(c *Claims) { c.CallAlias = "a.b" }), account, nil, "call alias"},
		{"alias with space", module, with(func(c *Claims) { c.CallAlias = "a b" }), account, nil, "call alias"},
		{"alias with tab", module, with(func(c *Claims) { c.CallAlias = "a\tb" }), account, nil, "call alias"},
		{"alias is a key", module, with(func(c *Claims) { c.CallAlias = actor }), account, nil, "shadow"},
		{"expiry before not-before", module, with(func(c *Claims) { c.Expires, c.NotBefore = t0, t0.Add(time.Second) }), account, nil, "not after not-before"},
		{"expiry before 1970", module, with(func(c *Claims) { c.Expires = time.Unix(-5, 0) }), account, nil, "1970"},
		{"not wasm", []byte("nope"), ok, account, ErrNotWasm, "magic"},
		{"truncated", module[:len(module)-1], ok, account, ErrMalformed, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, c, err := Sign(tt.module, tt.claims, tt.issuer)
			if err == nil || m != nil || c != nil {
				t.Fatalf("Sign = %v, %v, %v; want an error", m != nil, c, err)
			}
			if tt.want != nil {
				checkSentinel(t, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "signing: ") {
				t.Errorf("error %q lacks %q", err, tt.wantMsg)
			}
		})
	}
}

func TestIsNewer(t *testing.T) {
	a := &Claims{ID: "U1", Revision: 1}
	tests := []struct {
		name string
		a, b *Claims
		want bool
	}{
		{"higher revision", a, &Claims{ID: "U1", Revision: 2}, true},
		{"same revision", a, &Claims{ID: "U1", Revision: 1}, false},
		{"lower revision", a, &Claims{ID: "U1", Revision: 0}, false},
		{"other actor", a, &Claims{ID: "U2", Revision: 9}, false},
		{"nil old", nil, a, false},
		{"nil new", a, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsNewer(tt.a, tt.b); got != tt.want {
				t.Errorf("IsNewer = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHasCap(t *testing.T) {
	var nilClaims *Claims
	if nilClaims.HasCap("spore:logging") {
		t.Error("nil claims grant a cap")
	}
	c := &Claims{Caps: []string{"spore:logging"}}
	for cap, want := range map[string]bool{"spore:logging": true, "spore:log": false, "": false} {
		if c.HasCap(cap) != want {
			t.Errorf("HasCap(%q) = %v", cap, !want)
		}
	}
}

func TestDecodeTokenErrors(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrBadSignature},
		{"two parts", "a.b", ErrBadSignature},
		{"huge", strings.Repeat("a", maxTokenLen+1), ErrBadSignature},
		{"payload not json", "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.bm9wZQ.c2ln", ErrBadSignature},
		{"no issuer", "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln", ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeToken(tt.token)
			checkSentinel(t, err, tt.want)
		})
	}
}
