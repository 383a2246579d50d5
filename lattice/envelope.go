package lattice

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/spore-run/spore"
)

// Invocation is the envelope of a call that crosses the lattice, encoded as
// MessagePack. Token is made with the lattice's cluster key
// over Hash() (see ClusterKey): a host drops an invocation whose token is missing or does not
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
}

// Result answers an invocation.
type Result struct {
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

// Hash is the SHA-256 over every field but the token, each length-prefixed,
// so no two different invocations hash alike. docs/protocol.md spells the
// layout out for other implementations.
func (inv *Invocation) Hash() []byte {
	sum := inv.hash(nil)
	return sum[:]
}

// hash computes Hash, in sc's buffer when sc is not nil.
func (inv *Invocation) hash(sc *tokenScratch) [sha256.Size]byte {
	var buf []byte
	if sc != nil {
		buf = sc.buf[:0]
	}
	buf = inv.appendFields(buf)
	if sc != nil {
		sc.buf = buf
	}
	return sha256.Sum256(buf)
}

func (inv *Invocation) appendFields(b []byte) []byte {
	for _, s := range []string{inv.ID, inv.Origin, inv.OriginName, inv.Target, inv.Operation, inv.Blob, inv.Issuer} {
		b = appendField(b, s)
	}
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
	b = binary.BigEndian.AppendUint64(b, uint64(len(v)))
	return append(b, v...)
}

func appendSortedMap(b []byte, m map[string]string) []byte {
	b = appendField(b, strconv.Itoa(len(m)))
	if len(m) == 0 {
		return b
	}
	for _, k := range sortedKeys(m) {
		b = appendField(b, k)
		b = appendField(b, m[k])
	}
	return b
}

// ClusterKey signs and checks invocation tokens. The token is an
// HMAC-SHA256 over Hash(), keyed by a secret derived from the cluster key's
// seed: every host that checks tokens also makes them, so it holds the seed
// anyway, and an ed25519 signature per call costs about 70 times more (see
// docs/protocol.md, "Why the token is a MAC").
type ClusterKey struct {
	Public string // the cluster public key (C…), carried as Issuer
	// scratch holds *tokenScratch: a MAC keyed once and the buffers of one
	// token, so that making or checking one allocates nothing.
	scratch sync.Pool
}

type tokenScratch struct {
	mac hash.Hash
	buf []byte // the fields Hash covers
	sum [sha256.Size]byte
	out [sha256.Size]byte
}

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
	sum := sha256.Sum256(append([]byte("spore/invocation-token/v1\x00"), raw...))
	k := &ClusterKey{Public: pub}
	k.scratch.New = func() any {
		return &tokenScratch{mac: hmac.New(sha256.New, sum[:]), buf: make([]byte, 0, 1024)}
	}
	return k, nil
}

// token computes the invocation's token into a scratch, which the caller
// puts back in the pool.
func (k *ClusterKey) token(inv *Invocation) *tokenScratch {
	sc := k.scratch.Get().(*tokenScratch)
	sc.sum = inv.hash(sc)
	sc.mac.Reset()
	sc.mac.Write(sc.sum[:])
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
	inv.Token = append(make([]byte, 0, len(sc.out)), sc.out[:]...)
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
	ok := hmac.Equal(inv.Token, sc.out[:])
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
