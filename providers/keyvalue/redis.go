package keyvalue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisBackend shares one client per URL among the links that name it.
type redisBackend struct {
	mu      sync.Mutex
	clients map[string]*redisClient
}

type redisClient struct {
	c    *redis.Client
	refs int
}

// redisStore is one bucket in Redis: the keys under "<bucket>:".
type redisStore struct {
	c      *redis.Client
	prefix string
}

func init() { redis.SetLogger(debugLog{}) }

// debugLog sends go-redis's own log lines (reconnects, pool notices) to the
// default structured log at debug level: the errors that matter reach the
// actor with its call.
type debugLog struct{}

func (debugLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().Log(ctx, slog.LevelDebug, fmt.Sprintf(format, v...), "component", "redis")
}

// checkRedisURL parses a Redis URL. Its error never repeats the URL, which
// may hold a password.
func checkRedisURL(u string) error {
	_, err := redis.ParseURL(u)
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err
}

// open returns a store on the client for url, making the client on first
// use. The client connects lazily: an unreachable server fails the calls,
// with the reason, not the link.
func (b *redisBackend) open(rawURL, bucket string) (*redisStore, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rc := b.clients[rawURL]
	if rc == nil {
		if err := checkRedisURL(rawURL); err != nil {
			return nil, fmt.Errorf("redis url %s: %w", redactURL(rawURL), err)
		}
		opts, _ := redis.ParseURL(rawURL)
		opts.DialTimeout = 3 * time.Second
		rc = &redisClient{c: redis.NewClient(opts)}
		b.clients[rawURL] = rc
	}
	rc.refs++
	return &redisStore{c: rc.c, prefix: bucket + ":"}, nil
}

// release drops one reference to url's client, closing it with the last.
func (b *redisBackend) release(rawURL string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rc := b.clients[rawURL]
	if rc == nil {
		return
	}
	if rc.refs--; rc.refs <= 0 {
		delete(b.clients, rawURL)
		_ = rc.c.Close()
	}
}

func (b *redisBackend) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for u, rc := range b.clients {
		_ = rc.c.Close()
		delete(b.clients, u)
	}
}

func (s *redisStore) get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := s.c.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, redisErr(err)
	}
	return v, true, nil
}

func (s *redisStore) set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return redisErr(s.c.Set(ctx, s.prefix+key, value, ttl).Err())
}

func (s *redisStore) del(ctx context.Context, key string) (bool, error) {
	n, err := s.c.Del(ctx, s.prefix+key).Result()
	return n > 0, redisErr(err)
}

func (s *redisStore) exists(ctx context.Context, key string) (bool, error) {
	n, err := s.c.Exists(ctx, s.prefix+key).Result()
	return n > 0, redisErr(err)
}

func (s *redisStore) incr(ctx context.Context, key string, delta int64) (int64, error) {
	n, err := s.c.IncrBy(ctx, s.prefix+key, delta).Result()
	if err != nil && (strings.Contains(err.Error(), "not an integer") || strings.Contains(err.Error(), "overflow")) {
		return 0, ErrNotInteger
	}
	return n, redisErr(err)
}

// keys scans the bucket's keys that start with prefix. SCAN may return a
// key twice; the caller sorts, and duplicates are dropped here.
func (s *redisStore) keys(ctx context.Context, prefix string) ([]string, error) {
	match := escapeGlob(s.prefix+prefix) + "*"
	seen := map[string]bool{}
	var out []string
	iter := s.c.Scan(ctx, 0, match, 1000).Iterator()
	for iter.Next(ctx) {
		k := strings.TrimPrefix(iter.Val(), s.prefix)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, redisErr(iter.Err())
}

// escapeGlob quotes the characters Redis's MATCH treats as a pattern.
func escapeGlob(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

func redisErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redis: %w", err)
}
