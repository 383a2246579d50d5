package lattice

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/blake2b"

	"github.com/spore-run/spore"
)

// Invocation is the envelope of a call that crosses the lattice, encoded as
// MessagePack. Token is made with the lattice's cluster key
// over Fields() (see ClusterKey): a host drops an invocation whose token is missing or does not
// verify against the lattice's cluster key.
type Invocation struct {
	ID     string `msgpack:"id"`
	Origin string `msgpack:"origin"` // actor id, provider name, or "cli"
	// OriginName is the caller's claims name, for logs.
	OriginName string `msgpack:"origin_name,omitempty"`
	Target     string `msgpack:"target"` // actor id, or provider name
	Operation  string `msgpack:"operation"`
	Payload    []byte `msgpack:"payload"`
	// Blob names an object in the blobs store that holds the payload when
	// it is too large for one message; Payload is then empty.
	Blob string `msgpack:"blob,omitempty"`
	// Link is the link that allowed a call to a provider.
	Link *spore.Link `msgpack:"link,omitempty"`
	// Trace is W3C trace context (traceparent, tracestate).
	Trace map[string]string `msgpack:"trace,omitempty"`
	// Deadline is when the caller stops waiting, in Unix nanoseconds.
	Deadline int64  `msgpack:"deadline,omitempty"`
	Issuer   string `msgpack:"issuer"` // cluster public key
	Token    []byte `msgpack:"token"`

	token [TokenSize]byte // what Sign's Token points into
}

// Result answers an invocation.
type Result struct {
	// ID is the id of the invocation answered: a caller takes only the
	// result of its own call.
	ID      string       `msgpack:"id,omitempty"`
	Payload []byte       `msgpack:"payload"`
	Blob    string       `msgpack:"blob,omitempty"`
	Error   *spore.Error `msgpack:"error,omitempty"`
}

// Envelope errors.
var (
	// ErrUnsigned means an invocation carries no token.
	ErrUnsigned = errors.New("invocation is unsigned")
	// ErrForged means an invocation's token does not verify, or its issuer
	// is not a cluster key this host trusts.
	ErrForged = errors.New("invocation token does not verify")
	// ErrEnvelope means the bytes are not an invocation.
	ErrEnvelope = errors.New("malformed invocation")
)

// Fields is what the token covers: every field but the issuer and the
// token, each length-prefixed, so no two different invocations give the
// same bytes. docs/protocol.md spells the layout out for other
// implementations.
func (inv *Invocation) Fields() []byte { return inv.appendFields(nil) }

func (inv *Invocation) appendFields(b []byte) []byte {
	b = appendField(b, inv.ID)
	b = appendField(b, inv.Origin)
	b = appendField(b, inv.OriginName)
	b = appendField(b, inv.Target)
	b = appendField(b, inv.Operation)
	b = appendField(b, inv.Blob)
	b = appendField(b, inv.Payload)
	if l := inv.Link; l != nil {
		b = appendField(b, l.Key())
		b = appendField(b, l.Provider)
		b = appendSortedMap(b, l.Values)
	} else {
		b = appendField(b, "")
	}
	b = appendSortedMap(b, inv.Trace)
	return binary.BigEndian.AppendUint64(b, uint64(inv.Deadline))
}

func appendField[T string | []byte](b []byte, v T) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendSortedMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	if len(m) == 0 {
		return b
	}
	for _, k := range sortedKeys(m) {
		b = appendField(b, k)
		b = appendField(b, m[k])
	}
	return b
}

// ClusterKey signs and checks invocation tokens. The token is a keyed
// BLAKE2b-256 over Fields(), keyed by a secret derived from the cluster
// key's seed: every host that checks tokens also makes them, so it holds the
// seed anyway, and an ed25519 signature per call costs about 100 times more
// (see docs/protocol.md, "Why the token is a MAC").
type ClusterKey struct {
	Public string // the cluster public key (C…), carried as Issuer
	// scratch holds *tokenScratch: a MAC keyed once and the buffers of one
	// token, so that making or checking one allocates nothing.
	scratch sync.Pool
}

type tokenScratch struct {
	mac hash.Hash
	buf []byte // the fields the token covers
	out [TokenSize]byte
}

// TokenSize is the length of an invocation token.
const TokenSize = blake2b.Size256

// NewClusterKey derives the token key from a cluster key pair with a seed.
func NewClusterKey(kp nkeys.KeyPair) (*ClusterKey, error) {
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicClusterKey(pub) {
		return nil, fmt.Errorf("lattice: not a cluster key (want a seed starting SC)")
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, fmt.Errorf("lattice: cluster key has no seed: %w", err)
	}
	_, raw, err := nkeys.DecodeSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("lattice: cluster seed: %w", err)
	}
	key := sha256.Sum256(append([]byte(tokenKeyLabel), raw...))
	k := &ClusterKey{Public: pub}
	k.scratch.New = func() any {
		mac, err := blake2b.New256(key[:])
		if err != nil {
			panic(err) // a 32-byte key is always valid
		}
		return &tokenScratch{mac: mac, buf: make([]byte, 0, 1024)}
	}
	return k, nil
}

// tokenKeyLabel prefixes the seed in the token key's derivation; its
// version changes whenever the token's construction does.
const tokenKeyLabel = "spore/invocation-token/v3\x00"

// token computes the invocation's token into a scratch, which the caller
// puts back in the pool.
func (k *ClusterKey) token(inv *Invocation) *tokenScratch {
	sc := k.scratch.Get().(*tokenScratch)
	sc.buf = inv.appendFields(sc.buf[:0])
	sc.mac.Reset()
	sc.mac.Write(sc.buf)
	sc.mac.Sum(sc.out[:0])
	if cap(sc.buf) > 64<<10 {
		sc.buf = nil // a large payload passed through: do not keep its buffer
	}
	return sc
}

// Sign sets the invocation's Issuer and Token.
func (k *ClusterKey) Sign(inv *Invocation) {
	inv.Issuer = k.Public
	sc := k.token(inv)
	inv.Token = append(inv.token[:0], sc.out[:]...)
	k.scratch.Put(sc)
}

// Verify checks the invocation's token against this key.
func (k *ClusterKey) Verify(inv *Invocation) error {
	if len(inv.Token) == 0 {
		return ErrUnsigned
	}
	if inv.Issuer != k.Public {
		return fmt.Errorf("%w: issuer %q is not this lattice's cluster key", ErrForged, inv.Issuer)
	}
	sc := k.token(inv)
	ok := subtle.ConstantTimeCompare(inv.Token, sc.out[:]) == 1
	k.scratch.Put(sc)
	if !ok {
		return fmt.Errorf("%w: token does not match the fields", ErrForged)
	}
	return nil
}

// DecodeInvocation parses an envelope; it checks shape, not the token. The
// invocation's Payload and Token share b's memory: do not change b while
// they are in use.
func DecodeInvocation(b []byte) (*Invocation, error) {
	var inv Invocation
	if err := inv.decode(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnvelope, err)
	}
	if inv.Target == "" || inv.Operation == "" {
		return nil, fmt.Errorf("%w: no target or operation", ErrEnvelope)
	}
	return &inv, nil
}

// deadline returns the invocation's deadline, or now+def when it has none.
func (inv *Invocation) deadline(def time.Duration) time.Time {
	if inv.Deadline > 0 {
		return time.Unix(0, inv.Deadline)
	}
	return time.Now().Add(def)
}
