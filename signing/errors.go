package signing

import "errors"

// Every error from Verify and DecodeToken wraps exactly one of these, so a
// caller can tell the rules apart with errors.Is. The message around it says
// which rule failed and what to do next.
var (
	// ErrNotWasm: the bytes do not start with the \0asm magic and version 1
	// of a core Wasm module.
	ErrNotWasm = errors.New("signing: not a wasm module")
	// ErrMalformed: the module's section structure is truncated or
	// inconsistent, it holds more than one spore_jwt section, or a verified
	// token does not carry Spore actor claims.
	ErrMalformed = errors.New("signing: malformed")
	// ErrUnsigned: the module has no spore_jwt section.
	ErrUnsigned = errors.New("signing: module is unsigned")
	// ErrBadSignature: the token is not a JWT, or its signature does not
	// verify against its issuer.
	ErrBadSignature = errors.New("signing: bad signature")
	// ErrHashMismatch: the module bytes are not the ones the claims were
	// signed over.
	ErrHashMismatch = errors.New("signing: hash mismatch")
	// ErrExpired: the claims' expiry has passed.
	ErrExpired = errors.New("signing: claims expired")
	// ErrNotYetValid: the claims' not-before time is still ahead.
	ErrNotYetValid = errors.New("signing: claims not yet valid")
	// ErrUntrustedIssuer: the issuer is valid but not one the caller trusts.
	ErrUntrustedIssuer = errors.New("signing: untrusted issuer")
	// ErrInvalidKey: the subject is not a valid actor id (nkeys user public
	// key) or the issuer is not a valid nkeys account public key.
	ErrInvalidKey = errors.New("signing: invalid key")
)
