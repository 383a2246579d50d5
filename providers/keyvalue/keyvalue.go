// Package keyvalue is the spore:keyvalue provider: KeyValue.Get, Set,
// Delete, Exists, Increment and Keys from actors, kept in a JetStream KV
// bucket on the lattice's own NATS (the default, so an embedded lattice needs
// nothing else) or in Redis.
//
// Link values:
//
//	backend  jetstream (default) or redis
//	bucket   the bucket's name, 1-64 of [A-Za-z0-9_-]; default: the actor's
//	         id, so each actor has its own unless links share a name
//	url      redis only: redis://[user:password@]host:port[/db], rediss://
//	         or unix://
//
// Data enters through Handle (an actor's call through its link) and stays
// in the backend: a JetStream bucket is a file-backed stream named
// spore_<lattice>_kv_<bucket>, so it survives a host restart; in Redis every
// key is stored as "<bucket>:<key>". Both backends keep integers as decimal
// text, so Get after Increment returns "42" on either.
//
// # Notes
//
//   - Keys are any non-empty string of at most MaxKeyLen bytes. JetStream
//     allows fewer characters in keys, so the provider escapes the others
//     (as =XX); Keys returns them as the actor wrote them.
//   - Set with ttl_seconds uses JetStream's per-message TTL, which needs
//     nats-server 2.11 or later; on an older server such a Set fails with a
//     message saying so. Increment keeps a key's TTL on Redis and clears it
//     on JetStream (the new revision is written without one).
//   - Increment is atomic on both: INCRBY on Redis, a compare-and-set loop
//     on the key's revision on JetStream.
//   - Keys lists a whole JetStream bucket and filters it here; keep buckets
//     that are listed often small.
package keyvalue

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/providers"
)

// Name is the provider's registered name.
const Name = "keyvalue"

func init() { providers.Register(Name, func() providers.Provider { return &Provider{} }) }

// Backends and limits.
const (
	BackendJetStream = "jetstream"
	BackendRedis     = "redis"
	// MaxKeyLen bounds a key, in bytes.
	MaxKeyLen = 1024
)

// Link value names.
const (
	ValueBackend = "backend"
	ValueBucket  = "bucket"
	ValueURL     = "url"
)

var bucketName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Provider serves spore:keyvalue. The zero value is ready to Start.
type Provider struct {
	mu    sync.RWMutex
	state providers.State
	js    *jsBackend
	redis *redisBackend
	links map[string]*binding // by link key
}

// binding is one applied link: its configuration and the store it uses.
type binding struct {
	cfg   config
	store store
}

// config is what a link's values say.
type config struct {
	backend, bucket, url string
}

// store is one bucket of one backend.
type store interface {
	get(ctx context.Context, key string) ([]byte, bool, error)
	set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	del(ctx context.Context, key string) (bool, error)
	exists(ctx context.Context, key string) (bool, error)
	incr(ctx context.Context, key string, delta int64) (int64, error)
	keys(ctx context.Context, prefix string) ([]string, error)
}

// Interface guards
var (
	_ providers.Provider      = (*Provider)(nil)
	_ providers.LinkValidator = (*Provider)(nil)
)

// Name implements providers.Provider.
func (*Provider) Name() string { return Name }

// Contract implements providers.Provider.
func (*Provider) Contract() string { return spore.ContractKeyValue }

// Start implements providers.Provider. It opens nothing: backends connect
// when a link needs them.
func (p *Provider) Start(_ context.Context, env providers.Env) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.state.Start(p); err != nil {
		return err
	}
	p.js = &jsBackend{nc: env.NATS, lattice: env.Lattice, buckets: map[string]*jsStore{}}
	p.redis = &redisBackend{clients: map[string]*redisClient{}}
	p.links = map[string]*binding{}
	return nil
}

// ValidateLink implements providers.LinkValidator.
func (p *Provider) ValidateLink(l spore.Link) error {
	_, err := p.config(l)
	return err
}

func (p *Provider) config(l spore.Link) (config, error) {
	if err := providers.CheckKeys(p, l, ValueBackend, ValueBucket, ValueURL); err != nil {
		return config{}, err
	}
	c := config{backend: l.Values[ValueBackend], bucket: l.Values[ValueBucket], url: l.Values[ValueURL]}
	if c.backend == "" {
		c.backend = BackendJetStream
	}
	if c.bucket == "" {
		c.bucket = l.ActorID
	}
	if !bucketName.MatchString(c.bucket) {
		return c, providers.BadLink(p, l, "bucket=%q: use 1-64 letters, digits, '-' or '_'", c.bucket)
	}
	switch c.backend {
	case BackendJetStream:
		if c.url != "" {
			return c, providers.BadLink(p, l, "url is for backend=redis; the jetstream backend uses the lattice's own NATS")
		}
	case BackendRedis:
		if c.url == "" {
			return c, providers.BadLink(p, l, "backend=redis needs url=redis://host:port")
		}
		if err := checkRedisURL(c.url); err != nil {
			return c, providers.BadLink(p, l, "url=%q: %v", redactURL(c.url), err)
		}
	default:
		return c, providers.BadLink(p, l, "backend=%q: want %s or %s", c.backend, BackendJetStream, BackendRedis)
	}
	return c, nil
}

// PutLink implements providers.Provider: it opens (creating when missing)
// the link's bucket. Putting the same link again changes nothing; putting it
// with other values moves it to the new bucket.
func (p *Provider) PutLink(ctx context.Context, l spore.Link) error {
	c, err := p.config(l)
	if err != nil {
		return err
	}
	p.mu.RLock()
	err = p.state.Check(p)
	if err == nil {
		if b := p.links[l.Key()]; b != nil && b.cfg == c {
			p.mu.RUnlock()
			return nil
		}
	}
	js, rb := p.js, p.redis
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	var st store
	switch c.backend {
	case BackendJetStream:
		st, err = js.open(ctx, c.bucket)
	case BackendRedis:
		st, err = rb.open(c.url, c.bucket)
	}
	if err != nil {
		return fmt.Errorf("keyvalue: link %s: %w", l, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.state.Check(p); err != nil {
		release(rb, c)
		return err
	}
	if old := p.links[l.Key()]; old != nil {
		release(rb, old.cfg)
	}
	p.links[l.Key()] = &binding{cfg: c, store: st}
	return nil
}

func release(rb *redisBackend, c config) {
	if c.backend == BackendRedis {
		rb.release(c.url)
	}
}

// DeleteLink implements providers.Provider. The bucket and its data stay.
func (p *Provider) DeleteLink(_ context.Context, l spore.Link) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.links[l.Key()]; b != nil {
		delete(p.links, l.Key())
		release(p.redis, b.cfg)
	}
	return nil
}

// Stop implements providers.Provider: it closes the Redis connections.
// Data stays in the backends.
func (p *Provider) Stop(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.state.Stop() {
		return nil
	}
	p.links = nil
	if p.redis != nil {
		p.redis.closeAll()
	}
	return nil
}

func (p *Provider) storeFor(l spore.Link) (store, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.state.Check(p); err != nil {
		return nil, err
	}
	b := p.links[l.Key()]
	if b == nil {
		return nil, providers.NoLink(p, l)
	}
	return b.store, nil
}

// Handle implements providers.Provider.
func (p *Provider) Handle(ctx context.Context, req *providers.Request) ([]byte, error) {
	switch req.Operation {
	case spore.OpKVGet, spore.OpKVSet, spore.OpKVDelete, spore.OpKVExists, spore.OpKVIncrement, spore.OpKVKeys:
	default:
		return nil, providers.UnknownOperation(p, req.Operation)
	}
	st, err := p.storeFor(req.Link)
	if err != nil {
		return nil, err
	}
	op := req.Operation
	switch op {
	case spore.OpKVGet:
		key, err := p.key(op, req.Payload)
		if err != nil {
			return nil, err
		}
		v, ok, err := st.get(ctx, key)
		if err != nil {
			return nil, p.failed(op, key, err)
		}
		return providers.Encode(p, op, &spore.GetResponse{Value: v, Exists: ok})
	case spore.OpKVSet:
		var r spore.SetRequest
		if err := providers.Decode(p, op, req.Payload, &r); err != nil {
			return nil, err
		}
		if err := p.checkKey(op, r.Key); err != nil {
			return nil, err
		}
		if err := st.set(ctx, r.Key, r.Value, time.Duration(r.TTLSeconds)*time.Second); err != nil {
			return nil, p.failed(op, r.Key, err)
		}
		return nil, nil
	case spore.OpKVDelete, spore.OpKVExists:
		key, err := p.key(op, req.Payload)
		if err != nil {
			return nil, err
		}
		f := st.exists
		if op == spore.OpKVDelete {
			f = st.del
		}
		ok, err := f(ctx, key)
		if err != nil {
			return nil, p.failed(op, key, err)
		}
		return providers.Encode(p, op, ok)
	case spore.OpKVIncrement:
		var r spore.IncrementRequest
		if err := providers.Decode(p, op, req.Payload, &r); err != nil {
			return nil, err
		}
		if err := p.checkKey(op, r.Key); err != nil {
			return nil, err
		}
		n, err := st.incr(ctx, r.Key, r.Delta)
		if err != nil {
			return nil, p.failed(op, r.Key, err)
		}
		return providers.Encode(p, op, n)
	default: // spore.OpKVKeys
		var prefix string
		if err := providers.Decode(p, op, req.Payload, &prefix); err != nil {
			return nil, err
		}
		keys, err := st.keys(ctx, prefix)
		if err != nil {
			return nil, p.failed(op, prefix, err)
		}
		sort.Strings(keys)
		if keys == nil {
			keys = []string{}
		}
		return providers.Encode(p, op, keys)
	}
}

// key decodes a payload that is one key.
func (p *Provider) key(op string, payload []byte) (string, error) {
	var key string
	if err := providers.Decode(p, op, payload, &key); err != nil {
		return "", err
	}
	return key, p.checkKey(op, key)
}

func (p *Provider) checkKey(op, key string) error {
	switch {
	case key == "":
		return spore.Errorf(spore.CodeBadRequest, "keyvalue: %s: empty key", op)
	case len(key) > MaxKeyLen:
		return spore.Errorf(spore.CodeBadRequest, "keyvalue: %s: key of %d bytes; the limit is %d", op, len(key), MaxKeyLen)
	}
	return nil
}

// Backend errors.
var (
	// ErrNotInteger means Increment found a value that is not a decimal
	// 64-bit integer, or the sum overflows.
	ErrNotInteger = errors.New("value is not an integer or the result is out of range")
	// ErrNoTTL means the bucket cannot expire keys (JetStream before 2.11).
	ErrNoTTL = errors.New("per-key TTL is not supported")
)

// failed gives a backend error its code.
func (p *Provider) failed(op, key string, err error) error {
	code := spore.CodeUnavailable
	switch {
	case errors.Is(err, ErrNotInteger), errors.Is(err, ErrNoTTL):
		code = spore.CodeBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		code = spore.CodeTimeout
	}
	return spore.Errorf(code, "keyvalue: %s %q: %w", op, key, err)
}

// redactURL hides a password in a URL for errors and logs.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	return u[:scheme+3] + "***" + u[at:]
}
