// Package signing holds Spore's keys and actor claims: it makes keys,
// signs claims into Wasm modules and verifies them on the way out.
//
// # Keys
//
// Every key is a standard nkey, so any nkeys library can check it:
//
//	kind     nkeys type  public key  used for
//	account  account     A…          an issuer that signs actors
//	actor    user        U…          an actor's stable identity (its id)
//	host     server      N…          a host's identity
//	cluster  cluster     C…          signing invocations inside a lattice
//
// nkeys has no module-key prefix (wasmCloud's M… keys are its own extension),
// so an actor id is an nkeys user public key. The actor key's seed never
// signs anything; only its public key is used, as the JWT subject. Keep the
// seed anyway: re-signing with the same subject and a higher revision is how
// an actor is upgraded (see IsNewer). NewKey makes keys, WriteKey stores a
// seed in a 0600 file, LoadKey reads it back.
//
// # Claims
//
// Claims are a JWT made with github.com/nats-io/jwt/v2, signed by an account
// key and stored in a Wasm custom section named "spore_jwt". The standard
// fields carry the subject (actor id), issuer, issued-at, expiry and
// not-before, to the second. Spore's own fields sit under "nats" as
// {"type": "spore_actor", "spore": {name, version, revision, tags, caps,
// call_alias, hash}}; the type keeps a NATS user JWT signed by the same
// account from passing as actor claims. The hash is the SHA-256 of the
// module with every spore_jwt section removed, so signing does not change
// it and re-signing replaces the old section.
//
// # Data flow
//
// In: module bytes and claims to Sign; module bytes to Verify (the host, on
// every load); a stored token to DecodeToken (the lattice's claims store).
// Out: a signed module, or Claims plus an error wrapping exactly one of the
// sentinel errors, whose message says which rule failed and what to do.
//
// # The section layer
//
// wasm.go walks a module's sections (ids, LEB128 sizes, custom names) with
// bounds checks; it never searches bytes. It checks framing only: wazero
// validates section contents when it compiles the module.
package signing
