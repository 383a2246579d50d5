package lattice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/signing"
)

// State is the lattice's durable state in JetStream: links, claims and app
// manifests in KV buckets, pushed actors and oversized payloads in object
// stores. Every host and client of a lattice opens the same buckets; what one
// writes, the others watch.
type State struct {
	subj      Subjects
	js        jetstream.JetStream
	Links     jetstream.KeyValue
	Claims    jetstream.KeyValue
	Apps      jetstream.KeyValue
	Settings  jetstream.KeyValue
	Artifacts jetstream.ObjectStore
	Blobs     jetstream.ObjectStore
}

// BlobTTL is how long an oversized payload stays in the blobs store.
const BlobTTL = 10 * time.Minute

// OpenState opens (creating when missing) the lattice's buckets.
func OpenState(ctx context.Context, js jetstream.JetStream, lattice string) (*State, error) {
	s := &State{subj: Subjects{lattice}, js: js}
	kvs := []struct {
		kv      *jetstream.KeyValue
		kind    string
		history uint8
	}{
		{&s.Links, bucketLinks, 1},
		{&s.Claims, bucketClaims, 1},
		{&s.Apps, bucketApps, 5},
		{&s.Settings, bucketLattice, 1},
	}
	for _, b := range kvs {
		kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      s.subj.Bucket(b.kind),
			Description: "spore lattice " + lattice + ": " + b.kind,
			History:     b.history,
			Storage:     jetstream.FileStorage,
		})
		if err != nil {
			return nil, fmt.Errorf("lattice: open %s bucket: %w (is JetStream enabled on the NATS server?)", b.kind, err)
		}
		*b.kv = kv
	}
	var err error
	if s.Artifacts, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      s.subj.Bucket(bucketArtifacts),
		Description: "spore lattice " + lattice + ": pushed actors",
		Storage:     jetstream.FileStorage,
	}); err != nil {
		return nil, fmt.Errorf("lattice: open artifacts store: %w", err)
	}
	if s.Blobs, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      s.subj.Bucket(bucketBlobs),
		Description: "spore lattice " + lattice + ": payloads larger than one message",
		Storage:     jetstream.FileStorage,
		TTL:         BlobTTL,
	}); err != nil {
		return nil, fmt.Errorf("lattice: open blobs store: %w", err)
	}
	return s, nil
}

// openRegistry opens (creating when missing) one of the lattice's
// registries: a KV bucket in memory whose entries expire ttl after their
// last put, so whatever stops refreshing its entry drops out by itself.
func openRegistry(ctx context.Context, js jetstream.JetStream, lattice, kind, about string, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Subjects{lattice}.Bucket(kind),
		Description: "spore lattice " + lattice + ": " + about,
		History:     1,
		TTL:         ttl,
		Storage:     jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("lattice: open %s registry: %w", kind, err)
	}
	return kv, nil
}

// Settings keys.
const (
	keyClusterSeed   = "cluster_seed"
	keyClusterPublic = "cluster_public"
)

// ClusterKeyFor returns the lattice's cluster key.
//
// With an explicit seed, the seed never enters NATS: only its public key is
// recorded, so a host that comes without the seed is told to bring it. With
// no seed, the key is the one the lattice's first host made and stored in
// the settings bucket; create lets a host make it when there is none yet.
func (s *State) ClusterKeyFor(ctx context.Context, explicitSeed string, create bool) (*ClusterKey, error) {
	if explicitSeed != "" {
		kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(explicitSeed)))
		if err != nil {
			return nil, fmt.Errorf("lattice: --cluster-seed: %w", err)
		}
		ck, err := NewClusterKey(kp)
		if err != nil {
			return nil, err
		}
		if e, err := s.Settings.Get(ctx, keyClusterPublic); err == nil && string(e.Value()) != ck.Public {
			return nil, fmt.Errorf("lattice: --cluster-seed is for %s, but this lattice uses %s", ck.Public, e.Value())
		}
		if _, err := s.Settings.Get(ctx, keyClusterSeed); err == nil {
			return nil, fmt.Errorf("lattice: this lattice uses the cluster key its first host made; start without --cluster-seed, or use a new lattice id")
		}
		_, _ = s.Settings.Create(ctx, keyClusterPublic, []byte(ck.Public))
		return ck, nil
	}
	for range 3 {
		e, err := s.Settings.Get(ctx, keyClusterSeed)
		if err == nil {
			kp, err := nkeys.FromSeed(e.Value())
			if err != nil {
				return nil, fmt.Errorf("lattice: stored cluster key: %w", err)
			}
			return NewClusterKey(kp)
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("lattice: read cluster key: %w", err)
		}
		if pub, err := s.Settings.Get(ctx, keyClusterPublic); err == nil {
			return nil, fmt.Errorf("lattice: this lattice uses an explicit cluster key (%s): pass --cluster-seed (env SPORE_CLUSTER_SEED)", pub.Value())
		}
		if !create {
			return nil, spore.Errorf(spore.CodeUnavailable, "lattice: no host has joined lattice %q yet (no cluster key): start one with 'spore up'", s.subj.L)
		}
		kp, err := signing.NewKey(signing.KindCluster)
		if err != nil {
			return nil, err
		}
		seed, _ := kp.Seed()
		// Create, not Put: when two hosts race, the first wins and the
		// other reads its key on the next turn.
		if _, err := s.Settings.Create(ctx, keyClusterSeed, seed); err == nil {
			return NewClusterKey(kp)
		}
	}
	return nil, fmt.Errorf("lattice: could not agree on a cluster key")
}

// PutLink stores a link; the same link twice is one entry.
func (s *State) PutLink(ctx context.Context, l spore.Link) error {
	b, _ := json.Marshal(l)
	_, err := s.Links.Put(ctx, l.Key(), b)
	return err
}

// DeleteLink removes a link. It reports whether one existed.
func (s *State) DeleteLink(ctx context.Context, l spore.Link) (bool, error) {
	if _, err := s.Links.Get(ctx, l.Key()); errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	return true, s.Links.Delete(ctx, l.Key())
}

// ListLinks returns every link.
func (s *State) ListLinks(ctx context.Context) ([]spore.Link, error) {
	var out []spore.Link
	err := eachValue(ctx, s.Links, func(_ string, v []byte) {
		var l spore.Link
		if json.Unmarshal(v, &l) == nil {
			out = append(out, l)
		}
	})
	return out, err
}

// PutClaims records an actor's claims so the lattice can name it.
func (s *State) PutClaims(ctx context.Context, c *signing.Claims) error {
	if e, err := s.Claims.Get(ctx, c.ID); err == nil && string(e.Value()) == c.Token {
		return nil
	}
	_, err := s.Claims.Put(ctx, c.ID, []byte(c.Token))
	return err
}

// ListClaims returns the claims of every actor the lattice has run. Tokens
// are verified again on the way out.
func (s *State) ListClaims(ctx context.Context) ([]*signing.Claims, error) {
	var out []*signing.Claims
	err := eachValue(ctx, s.Claims, func(_ string, v []byte) {
		if c, err := signing.DecodeToken(string(v)); err == nil {
			out = append(out, c)
		}
	})
	return out, err
}

// claimsOf returns the claims recorded for an actor id, if any.
func (s *State) claimsOf(ctx context.Context, id string) (*signing.Claims, bool) {
	e, err := s.Claims.Get(ctx, id)
	if err != nil {
		return nil, false
	}
	c, err := signing.DecodeToken(string(e.Value()))
	return c, err == nil
}

// ResolveActor turns an id, call alias or claims name into an actor id.
func (s *State) ResolveActor(ctx context.Context, ref string) (string, error) {
	if signing.IsActorID(ref) {
		return ref, nil
	}
	all, err := s.ListClaims(ctx)
	if err != nil {
		return "", err
	}
	var match []string
	for _, c := range all {
		if c.CallAlias == ref || c.Name == ref {
			match = append(match, c.ID)
		}
	}
	return pickActor(ref, match)
}

func eachValue(ctx context.Context, kv jetstream.KeyValue, f func(key string, v []byte)) error {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return nil
			}
			f(e.Key(), e.Value())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// putBlob stores an oversized payload and returns its name.
func (s *State) putBlob(ctx context.Context, name string, b []byte) error {
	_, err := s.Blobs.PutBytes(ctx, name, b)
	return err
}

// takeBlob reads and deletes an oversized payload.
func (s *State) takeBlob(ctx context.Context, name string) ([]byte, error) {
	r, err := s.Blobs.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("lattice: blob %s: %w", name, err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("lattice: blob %s: %w", name, err)
	}
	_ = s.Blobs.Delete(ctx, name)
	return b, nil
}
