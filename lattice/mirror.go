package lattice

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// mirror keeps a KV bucket in memory and follows its changes, so hot paths
// (the capability gate, naming actors) answer without a round trip. decode
// turns an entry into a value, or refuses it; onPut and onDelete, if set,
// run after the map changed, outside the lock.
type mirror[T any] struct {
	name     string
	decode   func(key string, value []byte) (T, error)
	onPut    func(ctx context.Context, v T)
	onDelete func(ctx context.Context, v T)
	onBad    func(key string, err error)

	mu     sync.RWMutex
	values map[string]T

	watcher jetstream.KeyWatcher
	wg      sync.WaitGroup
}

// start loads every entry, then follows changes until stop. It returns once
// the initial values are in, so readers never see a partial bucket.
func (m *mirror[T]) start(ctx, life context.Context, kv jetstream.KeyValue) error {
	m.values = map[string]T{}
	w, err := kv.WatchAll(life)
	if err != nil {
		return fmt.Errorf("lattice: watch %s: %w", m.name, err)
	}
	m.watcher = w
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				m.wg.Add(1)
				go m.follow(life)
				return nil
			}
			m.apply(ctx, e)
		case <-ctx.Done():
			_ = w.Stop()
			return ctx.Err()
		}
	}
}

func (m *mirror[T]) follow(ctx context.Context) {
	defer m.wg.Done()
	for e := range m.watcher.Updates() {
		if e != nil {
			m.apply(ctx, e)
		}
	}
}

func (m *mirror[T]) stop() {
	if m.watcher != nil {
		_ = m.watcher.Stop()
	}
	m.wg.Wait()
}

func (m *mirror[T]) apply(ctx context.Context, e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		m.mu.Lock()
		old, had := m.values[e.Key()]
		delete(m.values, e.Key())
		m.mu.Unlock()
		if had && m.onDelete != nil {
			m.onDelete(ctx, old)
		}
		return
	}
	v, err := m.decode(e.Key(), e.Value())
	if err != nil {
		if m.onBad != nil {
			m.onBad(e.Key(), err)
		}
		return
	}
	m.mu.Lock()
	m.values[e.Key()] = v
	m.mu.Unlock()
	if m.onPut != nil {
		m.onPut(ctx, v)
	}
}

// get returns the value under key.
func (m *mirror[T]) get(key string) (T, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.values[key]
	return v, ok
}

// each calls f for every value, under the read lock: f must not block.
func (m *mirror[T]) each(f func(key string, v T)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for k, v := range m.values {
		f(k, v)
	}
}
