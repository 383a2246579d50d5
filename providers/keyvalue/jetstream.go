package keyvalue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jsBackend opens JetStream KV buckets on the lattice's NATS connection.
type jsBackend struct {
	nc      *nats.Conn
	lattice string

	mu      sync.Mutex
	js      jetstream.JetStream
	buckets map[string]*jsStore // by stream bucket name
}

// jsStore is one JetStream KV bucket.
type jsStore struct {
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	ttl bool // the bucket can expire single keys
}

// markerTTL is how long a bucket keeps the marker of a key removed by its
// TTL. Per-key TTL needs it set.
const markerTTL = time.Second

// maxCASRetries bounds Increment's compare-and-set loop; each retry means
// another writer won, so running out takes extreme contention.
const maxCASRetries = 1000

// BucketName is the JetStream bucket that holds a link's bucket in a
// lattice.
func BucketName(lattice, bucket string) string {
	return "spore_" + lattice + "_kv_" + bucket
}

func (b *jsBackend) open(ctx context.Context, bucket string) (*jsStore, error) {
	if b.nc == nil {
		return nil, errors.New("backend jetstream needs the lattice's NATS connection and this provider runs without one: use backend=redis, or run it on a lattice host")
	}
	name := BucketName(b.lattice, bucket)
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.buckets[name]; s != nil {
		return s, nil
	}
	if b.js == nil {
		js, err := jetstream.New(b.nc)
		if err != nil {
			return nil, fmt.Errorf("jetstream: %w", err)
		}
		b.js = js
	}
	kv, err := b.js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		cfg := jetstream.KeyValueConfig{
			Bucket:         name,
			Description:    "spore key-value bucket " + bucket,
			History:        1,
			Storage:        jetstream.FileStorage,
			LimitMarkerTTL: markerTTL,
		}
		kv, err = b.js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrLimitMarkerTTLNotSupported) {
			cfg.LimitMarkerTTL = 0 // an older server: no per-key TTL
			kv, err = b.js.CreateKeyValue(ctx, cfg)
		}
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = b.js.KeyValue(ctx, name) // another host made it first
		}
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream bucket %s: %w (is JetStream enabled on the lattice's NATS?)", name, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("jetstream bucket %s: %w", name, err)
	}
	s := &jsStore{js: b.js, kv: kv, ttl: st.LimitMarkerTTL() > 0}
	b.buckets[name] = s
	return s, nil
}

func (s *jsStore) get(ctx context.Context, key string) ([]byte, bool, error) {
	e, err := s.kv.Get(ctx, encodeKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return e.Value(), true, nil
}

func (s *jsStore) set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		_, err := s.kv.Put(ctx, encodeKey(key), value)
		return err
	}
	if !s.ttl {
		return fmt.Errorf("bucket %s: %w on this NATS server (needs nats-server 2.11 or later)", s.kv.Bucket(), ErrNoTTL)
	}
	// The KV API sets a TTL only on Create; a put is a publish on the
	// key's subject, which takes one always.
	_, err := s.js.Publish(ctx, "$KV."+s.kv.Bucket()+"."+encodeKey(key), value, jetstream.WithMsgTTL(ttl))
	return err
}

func (s *jsStore) del(ctx context.Context, key string) (bool, error) {
	ok, err := s.exists(ctx, key)
	if err != nil || !ok {
		return false, err
	}
	return true, s.kv.Delete(ctx, encodeKey(key))
}

func (s *jsStore) exists(ctx context.Context, key string) (bool, error) {
	_, ok, err := s.get(ctx, key)
	return ok, err
}

// incr is a compare-and-set loop: read the value and its revision, write the
// sum only if the revision is still the latest, else read again.
func (s *jsStore) incr(ctx context.Context, key string, delta int64) (int64, error) {
	k := encodeKey(key)
	for range maxCASRetries {
		var n int64
		var err error
		e, gerr := s.kv.Get(ctx, k)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			n = delta
			_, err = s.kv.Create(ctx, k, strconv.AppendInt(nil, n, 10))
		case gerr != nil:
			return 0, gerr
		default:
			if n, err = add(e.Value(), delta); err != nil {
				return 0, err
			}
			_, err = s.kv.Update(ctx, k, strconv.AppendInt(nil, n, 10), e.Revision())
		}
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // another writer came first
		default:
			return 0, err
		}
	}
	return 0, fmt.Errorf("increment lost the race %d times in a row", maxCASRetries)
}

// add parses a stored decimal integer and adds delta, refusing overflow.
func add(v []byte, delta int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
	if err != nil {
		return 0, ErrNotInteger
	}
	sum := n + delta
	if (delta > 0 && sum < n) || (delta < 0 && sum > n) {
		return 0, ErrNotInteger
	}
	return sum, nil
}

func (s *jsStore) keys(ctx context.Context, prefix string) ([]string, error) {
	all, err := s.kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range all {
		if key, ok := decodeKey(k); ok && strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	return out, nil
}
