package lattice

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"
)

// mirror keeps a KV bucket in memory and follows its changes, so hot paths
// (the capability gate, naming actors) answer without a round trip. decode
// turns an entry into a value, or refuses it; onPut and onDelete, if set,
// run after the map changed, outside the lock.
//
// The map is copy-on-write: readers load it with one atomic read and no
// lock, as every call reads it; a change publishes a copy. Changes are
// rare, and the initial load fills one map before publishing it.
type mirror[T any] struct {
	name     string
	decode   func(key string, value []byte) (T, error)
	onPut    func(ctx context.Context, v T)
	onDelete func(ctx context.Context, v T)
	onBad    func(key string, err error)

	mu     sync.Mutex // serializes changes
	values atomic.Pointer[map[string]T]
	// loading is the map the initial load fills in place, before start
	// publishes it; nil afterwards.
	loading map[string]T

	watcher jetstream.KeyWatcher
	wg      sync.WaitGroup
}

// start loads every entry, then follows changes until stop. It returns once
// the initial values are in, so readers never see a partial bucket.
func (m *mirror[T]) start(ctx, life context.Context, kv jetstream.KeyValue) error {
	m.loading = map[string]T{}
	w, err := kv.WatchAll(life)
	if err != nil {
		return fmt.Errorf("lattice: watch %s: %w", m.name, err)
	}
	m.watcher = w
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				m.mu.Lock()
				vals := m.loading
				m.values.Store(&vals)
				m.loading = nil
				m.mu.Unlock()
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
		vals := m.edit()
		old, had := vals[e.Key()]
		delete(vals, e.Key())
		m.publish(vals)
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
	vals := m.edit()
	vals[e.Key()] = v
	m.publish(vals)
	m.mu.Unlock()
	if m.onPut != nil {
		m.onPut(ctx, v)
	}
}

// edit returns the map a change is made to, m.mu held: the one being
// loaded, or a copy of the published one.
func (m *mirror[T]) edit() map[string]T {
	if m.loading != nil {
		return m.loading
	}
	return maps.Clone(m.snapshot())
}

// publish makes an edited map the one readers see, m.mu held.
func (m *mirror[T]) publish(vals map[string]T) {
	if m.loading == nil {
		m.values.Store(&vals)
	}
}

// snapshot is the published map, which never changes.
func (m *mirror[T]) snapshot() map[string]T {
	if p := m.values.Load(); p != nil {
		return *p
	}
	return nil
}

// get returns the value under key.
func (m *mirror[T]) get(key string) (T, bool) {
	v, ok := m.snapshot()[key]
	return v, ok
}

// each calls f for every value of one snapshot.
func (m *mirror[T]) each(f func(key string, v T)) {
	for k, v := range m.snapshot() {
		f(k, v)
	}
}
