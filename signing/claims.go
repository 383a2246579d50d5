package signing

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// SectionName is the custom section that carries an actor's claims.
const SectionName = "spore_jwt"

const (
	// claimsSection is the custom section that carries the token.
	claimsSection = SectionName
	// claimType tells Spore actor claims apart from NATS account or user
	// JWTs signed by the same account key.
	claimType = "spore_actor"
	// maxTokenLen bounds the work spent on an untrusted token. Real claims
	// are a few hundred bytes.
	maxTokenLen = 1 << 20
)

// Claims are what an issuer vouches for about an actor module.
type Claims struct {
	ID        string    `json:"id"`     // subject: actor public key (U…)
	Issuer    string    `json:"issuer"` // account public key (A…)
	Name      string    `json:"name"`
	Version   string    `json:"version,omitempty"`
	Revision  int       `json:"revision"`
	Tags      []string  `json:"tags,omitempty"`
	Caps      []string  `json:"caps,omitempty"`
	CallAlias string    `json:"call_alias,omitempty"`
	Hash      string    `json:"hash"` // lowercase hex SHA-256 of the module with every spore_jwt section removed
	IssuedAt  time.Time `json:"issued_at"`
	Expires   time.Time `json:"expires,omitzero"`    // zero: never
	NotBefore time.Time `json:"not_before,omitzero"` // zero: immediately
	Token     string    `json:"-"`                   // the raw JWT
}

// HasCap reports whether the claims grant the contract.
func (c *Claims) HasCap(contract string) bool {
	return c != nil && slices.Contains(c.Caps, contract)
}

// IsNewer reports whether b is an upgrade of a: same actor id, higher
// revision.
func IsNewer(a, b *Claims) bool {
	return a != nil && b != nil && a.ID == b.ID && b.Revision > a.Revision
}

// sporeData is the Spore part of the token, under nats.spore. It sits one
// level down because jwt/v2 owns nats.type and nats.version.
type sporeData struct {
	Name      string   `json:"name"`
	Version   string   `json:"version,omitempty"`
	Revision  int      `json:"revision"`
	Tags      []string `json:"tags,omitempty"`
	Caps      []string `json:"caps,omitempty"`
	CallAlias string   `json:"call_alias,omitempty"`
	Hash      string   `json:"hash"`
}

// wireClaims is the token payload as Spore reads it back.
type wireClaims struct {
	jwt.ClaimsData
	Nats struct {
		Type  string     `json:"type"`
		Spore *sporeData `json:"spore"`
	} `json:"nats"`
}

// ModuleHash returns the lowercase hex SHA-256 of module with every
// spore_jwt section removed: the hash that claims carry.
func ModuleHash(module []byte) (string, error) {
	stripped, err := StripCustom(module, claimsSection)
	if err != nil {
		return "", err
	}
	return hashHex(stripped), nil
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Sign embeds claims in module, signed by issuer.
//
// It removes any spore_jwt sections, computes Hash over what is left, sets
// Issuer from the issuer key and IssuedAt to now, and appends one spore_jwt
// custom section holding the JWT. Whatever c holds in Issuer, Hash,
// IssuedAt and Token is ignored. Times are kept to the second, as JWTs do.
// It returns the signed module and the claims as signed (decoded back from
// the token).
//
// c.ID must be an actor id (see IsActorID), issuer an account key pair with
// its seed, Name non-empty, Caps contract ids (holding a ':'), and CallAlias,
// if set, free of ':', '.', '*', '>' and whitespace (it is looked up like an
// actor id and may appear in NATS subjects).
func Sign(module []byte, c Claims, issuer nkeys.KeyPair) ([]byte, *Claims, error) {
	if issuer == nil {
		return nil, nil, fmt.Errorf("signing: sign: no issuer key pair; load one with LoadKey")
	}
	iss, err := issuer.PublicKey()
	if err != nil {
		return nil, nil, fmt.Errorf("signing: sign: issuer: %w", err)
	}
	if !IsIssuer(iss) {
		return nil, nil, fmt.Errorf("%w: issuer %s is not an account key (A…); sign with a key from `spore keys gen account`", ErrInvalidKey, iss)
	}
	if _, err := issuer.Seed(); err != nil {
		return nil, nil, fmt.Errorf("signing: sign: issuer %s has no seed (public key only); load the account seed file: %w", iss, err)
	}
	if !IsActorID(c.ID) {
		return nil, nil, fmt.Errorf("%w: subject %q is not an actor id (nkeys user public key, U…); use the public key of `spore keys gen actor`", ErrInvalidKey, c.ID)
	}
	if err := checkFields(c.Name, c.Revision, c.Tags, c.Caps, c.CallAlias); err != nil {
		return nil, nil, fmt.Errorf("signing: sign: %w", err)
	}
	if err := checkTimes(c.Expires, c.NotBefore); err != nil {
		return nil, nil, fmt.Errorf("signing: sign: %w", err)
	}

	stripped, err := StripCustom(module, claimsSection)
	if err != nil {
		return nil, nil, err
	}
	gc := jwt.NewGenericClaims(c.ID)
	gc.Name = c.Name
	if !c.Expires.IsZero() {
		gc.Expires = c.Expires.Unix()
	}
	if !c.NotBefore.IsZero() {
		gc.NotBefore = c.NotBefore.Unix()
	}
	gc.Data["type"] = claimType
	gc.Data["spore"] = sporeData{
		Name:      c.Name,
		Version:   c.Version,
		Revision:  c.Revision,
		Tags:      c.Tags,
		Caps:      c.Caps,
		CallAlias: c.CallAlias,
		Hash:      hashHex(stripped),
	}
	token, err := gc.Encode(issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("signing: sign: encode token: %w", err)
	}
	signed, err := AppendCustom(stripped, claimsSection, []byte(token))
	if err != nil {
		return nil, nil, err
	}
	out, err := DecodeToken(token)
	if err != nil {
		return nil, nil, fmt.Errorf("signing: sign: the token just made does not decode (a bug): %w", err)
	}
	return signed, out, nil
}

func checkFields(name string, rev int, tags, caps []string, alias string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("claims name is empty; give the actor a name (--name)")
	}
	if rev < 0 {
		return fmt.Errorf("revision %d is negative; revisions count up from 0", rev)
	}
	for _, t := range tags {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("empty tag; drop it")
		}
	}
	for _, c := range caps {
		if !strings.Contains(c, ":") || strings.IndexFunc(c, unicode.IsSpace) >= 0 {
			return fmt.Errorf("capability %q is not a contract id; use ids like spore:keyvalue", c)
		}
	}
	if alias != "" {
		if i := strings.IndexFunc(alias, func(r rune) bool {
			return r == ':' || r == '.' || r == '*' || r == '>' || unicode.IsSpace(r)
		}); i >= 0 {
			return fmt.Errorf("call alias %q holds %q; an alias may not hold ':', '.', '*', '>' or spaces", alias, alias[i:i+1])
		}
		if nkeys.IsValidPublicKey(alias) {
			return fmt.Errorf("call alias %q is an nkeys public key and would shadow an actor id; pick a name", alias)
		}
	}
	return nil
}

func checkTimes(exp, nbf time.Time) error {
	if !exp.IsZero() && exp.Unix() <= 0 {
		return fmt.Errorf("expiry %s is not after 1970; leave it zero for never", exp)
	}
	if !nbf.IsZero() && nbf.Unix() <= 0 {
		return fmt.Errorf("not-before %s is not after 1970; leave it zero for immediately", nbf)
	}
	if !exp.IsZero() && !nbf.IsZero() && exp.Unix() <= nbf.Unix() {
		return fmt.Errorf("expiry %s is not after not-before %s", exp, nbf)
	}
	return nil
}

// VerifyOptions are the host's rules for Verify.
type VerifyOptions struct {
	TrustedIssuers []string         // empty: any valid issuer
	Now            func() time.Time // nil: time.Now
}

// Verify checks a signed module and returns its claims. It checks, in this
// order: the module's section structure, that it holds exactly one
// spore_jwt section, the token's signature and keys (see DecodeToken), the
// trusted issuer list, the module hash, and the time window (valid from
// not-before inclusive to expiry exclusive; no clock leeway, and the
// issued-at time is not checked, so a host with a fast clock still loads
// fresh actors).
//
// Each failure wraps exactly one of the package's sentinel errors.
func Verify(module []byte, opts VerifyOptions) (*Claims, error) {
	secs, err := parseSections(module)
	if err != nil {
		return nil, err
	}
	var found []rawSection
	for _, s := range secs {
		if s.ID == 0 && s.Name == claimsSection {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: no %s section; sign it with `spore sign`", ErrUnsigned, claimsSection)
	case 1:
	default:
		return nil, fmt.Errorf("%w: %d %s sections (at offsets %d and %d); sign it again with `spore sign`, which replaces them with one", ErrMalformed, len(found), claimsSection, found[0].Start, found[1].Start)
	}
	tok := module[found[0].body:found[0].End]
	if len(tok) > maxTokenLen {
		return nil, fmt.Errorf("%w: %s section holds %d bytes, more than the %d a token may have; sign the module again", ErrBadSignature, claimsSection, len(tok), maxTokenLen)
	}
	c, err := DecodeToken(string(tok))
	if err != nil {
		return nil, err
	}
	if len(opts.TrustedIssuers) > 0 && !slices.Contains(opts.TrustedIssuers, c.Issuer) {
		return nil, fmt.Errorf("%w: %s (actor %q) is not among the trusted issuers %s; sign with a trusted account key or add it with --trusted-issuer", ErrUntrustedIssuer, c.Issuer, c.Name, strings.Join(opts.TrustedIssuers, ", "))
	}
	sum, err := ModuleHash(module)
	if err != nil {
		return nil, err // cannot happen: the module parsed above
	}
	if sum != c.Hash {
		return nil, fmt.Errorf("%w: module bytes changed after signing (claims say %s, module is %s); sign it again", ErrHashMismatch, short(c.Hash), short(sum))
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t := now()
	if !c.NotBefore.IsZero() && t.Before(c.NotBefore) {
		return nil, fmt.Errorf("%w: valid from %s, now is %s; wait, or sign again without a future not-before", ErrNotYetValid, c.NotBefore.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	if !c.Expires.IsZero() && !t.Before(c.Expires) {
		return nil, fmt.Errorf("%w: expired at %s, now is %s; sign it again with a later expiry", ErrExpired, c.Expires.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	return c, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// DecodeToken checks a claims JWT's signature and keys and returns its
// claims. It does not check a module hash, the time window or a trusted
// issuer list: use it for claims already verified once, such as those kept
// in the lattice.
//
// Errors wrap ErrBadSignature (not a JWT, wrong algorithm, signature does
// not verify), ErrInvalidKey (issuer not an account key, subject not an
// actor id) or ErrMalformed (a verified token without Spore actor claims).
func DecodeToken(token string) (*Claims, error) {
	token = strings.TrimSpace(token)
	if len(token) > maxTokenLen {
		return nil, fmt.Errorf("%w: token is %d bytes, more than the %d allowed", ErrBadSignature, len(token), maxTokenLen)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a JWT (want header.payload.signature, got %d parts); sign the module again", ErrBadSignature, len(parts))
	}
	var hdr jwt.Header
	if err := decodePart(parts[0], &hdr); err != nil {
		return nil, fmt.Errorf("%w: not a JWT: header: %v", ErrBadSignature, err)
	}
	// jwt/v2 still accepts v1 tokens ("ed25519"), whose signature covers
	// the payload only. Sign never makes them, so refuse them.
	if !strings.EqualFold(hdr.Type, jwt.TokenTypeJwt) || hdr.Algorithm != jwt.AlgorithmNkey {
		return nil, fmt.Errorf("%w: token type %q, algorithm %q; want %q, %q", ErrBadSignature, hdr.Type, hdr.Algorithm, jwt.TokenTypeJwt, jwt.AlgorithmNkey)
	}
	var std jwt.ClaimsData
	if err := decodePart(parts[1], &std); err != nil {
		return nil, fmt.Errorf("%w: not a JWT: payload: %v", ErrBadSignature, err)
	}
	if !IsIssuer(std.Issuer) {
		return nil, fmt.Errorf("%w: issuer %q is not an account key (A…); sign with a key from `spore keys gen account`", ErrInvalidKey, std.Issuer)
	}
	if _, err := jwt.DecodeGeneric(token); err != nil {
		return nil, fmt.Errorf("%w: token does not verify against issuer %s (%v); the claims were edited or signed by another key, sign the module again", ErrBadSignature, std.Issuer, err)
	}

	var w wireClaims
	if err := decodePart(parts[1], &w); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if !IsActorID(w.Subject) {
		return nil, fmt.Errorf("%w: subject %q is not an actor id (nkeys user public key, U…); sign with the public key of `spore keys gen actor`", ErrInvalidKey, w.Subject)
	}
	if w.Nats.Type != claimType {
		return nil, fmt.Errorf("%w: claims: token type %q is not %q; it is not a Spore actor token, sign the module with `spore sign`", ErrMalformed, w.Nats.Type, claimType)
	}
	d := w.Nats.Spore
	if d == nil {
		return nil, fmt.Errorf("%w: claims: token has no spore claims; sign the module again", ErrMalformed)
	}
	if err := checkFields(d.Name, d.Revision, d.Tags, d.Caps, d.CallAlias); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if !isHexSHA256(d.Hash) {
		return nil, fmt.Errorf("%w: claims: hash %q is not a lowercase hex SHA-256; sign the module again", ErrMalformed, d.Hash)
	}
	if w.Expires < 0 || w.NotBefore < 0 || w.IssuedAt < 0 {
		return nil, fmt.Errorf("%w: claims: negative time (iat %d, nbf %d, exp %d)", ErrMalformed, w.IssuedAt, w.NotBefore, w.Expires)
	}
	c := &Claims{
		ID:        w.Subject,
		Issuer:    w.Issuer,
		Name:      d.Name,
		Version:   d.Version,
		Revision:  d.Revision,
		Tags:      d.Tags,
		Caps:      d.Caps,
		CallAlias: d.CallAlias,
		Hash:      d.Hash,
		IssuedAt:  unixTime(w.IssuedAt),
		Expires:   unixTime(w.Expires),
		NotBefore: unixTime(w.NotBefore),
		Token:     token,
	}
	return c, nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// unixTime maps a JWT NumericDate to a UTC time, 0 to the zero time.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}
