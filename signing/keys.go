package signing

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"
)

// KeyKind names what a key is for. Each kind maps to one standard nkeys
// type; see the package doc.
type KeyKind string

// The key kinds.
const (
	// KindAccount is an issuer that signs actors: an nkeys account key (A…).
	KindAccount KeyKind = "account"
	// KindActor is an actor's stable identity: an nkeys user key (U…).
	KindActor KeyKind = "actor"
	// KindHost identifies a host: an nkeys server key (N…).
	KindHost KeyKind = "host"
	// KindCluster signs invocations inside a lattice: an nkeys cluster
	// key (C…).
	KindCluster KeyKind = "cluster"
)

func (k KeyKind) prefix() (nkeys.PrefixByte, bool) {
	switch k {
	case KindAccount:
		return nkeys.PrefixByteAccount, true
	case KindActor:
		return nkeys.PrefixByteUser, true
	case KindHost:
		return nkeys.PrefixByteServer, true
	case KindCluster:
		return nkeys.PrefixByteCluster, true
	}
	return 0, false
}

// ParseKeyKind parses a kind as typed on the command line (case and
// surrounding space ignored).
func ParseKeyKind(s string) (KeyKind, error) {
	k := KeyKind(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := k.prefix(); !ok {
		return "", fmt.Errorf("signing: unknown key kind %q: want account, actor, host or cluster", s)
	}
	return k, nil
}

// NewKey creates a fresh key pair of the given kind.
func NewKey(kind KeyKind) (nkeys.KeyPair, error) {
	p, ok := kind.prefix()
	if !ok {
		return nil, fmt.Errorf("signing: new key: unknown key kind %q: want account, actor, host or cluster", kind)
	}
	kp, err := nkeys.CreatePair(p)
	if err != nil {
		return nil, fmt.Errorf("signing: new %s key: %w", kind, err)
	}
	return kp, nil
}

// WriteKey writes the seed of kp to dir/<kind>-<first 8 chars of the public
// key>.nk with mode 0600, creating dir with mode 0700 if needed, and returns
// the path. kp must hold a seed of the nkeys type that kind maps to.
//
// It never overwrites a different key: if the file exists and holds another
// seed, it fails; if it holds this one, it returns the path.
func WriteKey(dir string, kind KeyKind, kp nkeys.KeyPair) (string, error) {
	p, ok := kind.prefix()
	if !ok {
		return "", fmt.Errorf("signing: write key: unknown key kind %q: want account, actor, host or cluster", kind)
	}
	if kp == nil {
		return "", fmt.Errorf("signing: write %s key: no key pair", kind)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return "", fmt.Errorf("signing: write %s key: %w", kind, err)
	}
	if nkeys.Prefix(pub) != p {
		return "", fmt.Errorf("signing: write %s key: %s is an nkeys %s key, want an nkeys %s key", kind, pub, nkeys.Prefix(pub), p)
	}
	seed, err := kp.Seed()
	if err != nil {
		return "", fmt.Errorf("signing: write %s key %s: the key pair has no seed (public key only): %w", kind, pub, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("signing: write %s key: %w", kind, err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.nk", kind, pub[:8]))
	content := append(append([]byte(nil), seed...), '\n')

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		old, rerr := os.ReadFile(path)
		if rerr == nil && bytes.Equal(bytes.TrimSpace(old), seed) {
			return path, nil
		}
		return "", fmt.Errorf("signing: write %s key: %s already exists and holds another key; move it away first", kind, path)
	}
	if err != nil {
		return "", fmt.Errorf("signing: write %s key: %w", kind, err)
	}
	// The umask may have narrowed the mode; set it exactly.
	_, err = f.Write(content)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("signing: write %s key: %w", kind, err)
	}
	return path, nil
}

// LoadKey reads a seed file as written by WriteKey (surrounding whitespace
// ignored) and returns its key pair. A NATS .creds file also works.
func LoadKey(path string) (nkeys.KeyPair, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("signing: load key %s: no such file; create one with `spore keys gen`: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("signing: load key: %w", err)
	}
	seed := bytes.TrimSpace(data)
	if len(seed) == 0 {
		return nil, fmt.Errorf("signing: load key %s: file is empty; it should hold one nkeys seed (S…)", path)
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil && bytes.Contains(seed, []byte("-----")) {
		kp, err = nkeys.ParseDecoratedNKey(seed)
	}
	if err != nil {
		if nkeys.IsValidPublicKey(string(seed)) {
			return nil, fmt.Errorf("signing: load key %s: file holds a public key, not a seed; pass the seed file written by `spore keys gen`", path)
		}
		// The nkeys error never quotes the input, so no secret leaks here.
		return nil, fmt.Errorf("signing: load key %s: not an nkeys seed (want one line starting with S, as `spore keys gen` writes): %w", path, err)
	}
	if pub, err := kp.PublicKey(); err != nil || nkeys.Prefix(pub) == nkeys.PrefixByteCurve {
		return nil, fmt.Errorf("signing: load key %s: a curve (X…) key cannot sign; pass an account, actor, host or cluster seed", path)
	}
	return kp, nil
}

// IsActorID reports whether s is a valid actor id: an nkeys user public key.
func IsActorID(s string) bool {
	// Names are checked often (every host call names its target): most
	// are not keys, and the length and prefix say so before decoding.
	return len(s) == publicKeyLen && s[0] == 'U' && nkeys.IsValidPublicUserKey(s)
}

// publicKeyLen is the length of an nkeys public key.
const publicKeyLen = 56

// IsIssuer reports whether s is a valid issuer: an nkeys account public key.
func IsIssuer(s string) bool { return nkeys.IsValidPublicAccountKey(s) }
