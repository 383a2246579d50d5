package keyvalue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/testkit"
	"github.com/spore-run/spore/providers"
	"github.com/spore-run/spore/providers/keyvalue"
	"github.com/spore-run/spore/providers/providertest"
)

// backend is one place the provider keeps data, with a real server behind
// it for the length of a test.
type backend struct {
	name string
	// setup starts the server and returns the provider's Env and the link
	// values that select the backend.
	setup func(t *testing.T) (providers.Env, map[string]string)
}

var backends = []backend{
	{"jetstream", func(t *testing.T) (providers.Env, map[string]string) {
		n := providertest.StartNATS(t, "")
		return providers.Env{Log: providertest.Quiet, NATS: n.Connect(t), Lattice: "test"}, nil
	}},
	{"redis", func(t *testing.T) (providers.Env, map[string]string) {
		url := providertest.StartRedis(t)
		return providers.Env{Log: providertest.Quiet, Lattice: "test"}, map[string]string{"backend": "redis", "url": url}
	}},
}

func link(actorID string, values map[string]string, extra ...string) spore.Link {
	v := map[string]string{}
	for k, s := range values {
		v[k] = s
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v[extra[i]] = extra[i+1]
	}
	return spore.Link{ActorID: actorID, Contract: spore.ContractKeyValue, LinkName: "default", Provider: keyvalue.Name, Values: v}
}

// call makes one call as an actor would, encoding in and decoding the
// response into out when it is not nil.
func call(p providers.Provider, l spore.Link, op string, in, out any) error {
	payload, err := msgpack.Marshal(in)
	if err != nil {
		return err
	}
	resp, err := p.Handle(context.Background(), &providers.Request{ActorID: l.ActorID, Link: l, Operation: op, Payload: payload})
	if err != nil || out == nil {
		return err
	}
	return msgpack.Unmarshal(resp, out)
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			env, values := b.setup(t)
			providertest.Run(t, providertest.Suite{
				New:    func() providers.Provider { return &keyvalue.Provider{} },
				Env:    func(*testing.T) providers.Env { return env },
				Link:   func(_ *testing.T, id string) spore.Link { return link(id, values) },
				Actors: []string{"actor-one", "actor-two", "actor-three"},
				InEffect: func(_ *testing.T, p providers.Provider, l spore.Link) error {
					if err := call(p, l, spore.OpKVSet, spore.SetRequest{Key: "probe", Value: []byte("v")}, nil); err != nil {
						return err
					}
					var got spore.GetResponse
					if err := call(p, l, spore.OpKVGet, "probe", &got); err != nil {
						return err
					}
					if !got.Exists || string(got.Value) != "v" {
						return fmt.Errorf("get after set: %+v", got)
					}
					return nil
				},
				BadValues: []map[string]string{
					{"backend": "etcd"},
					{"bucket": "no spaces"},
					{"bucket": strings.Repeat("b", 65)},
					{"backend": "redis"},
					{"backend": "redis", "url": "http://x"},
					{"url": "redis://127.0.0.1:6379"},
					{"bukket": "typo"},
				},
				Operations: []string{spore.OpKVGet, spore.OpKVSet, spore.OpKVDelete, spore.OpKVExists, spore.OpKVIncrement, spore.OpKVKeys},
			})
		})
	}
}

func start(t *testing.T, env providers.Env) *keyvalue.Provider {
	t.Helper()
	p := &keyvalue.Provider{}
	if err := p.Start(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(context.Background()) })
	return p
}

func put(t testing.TB, p providers.Provider, l spore.Link) {
	t.Helper()
	if err := p.PutLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
}

// TestOperations holds both backends to the same behaviour.
func TestOperations(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			env, values := b.setup(t)
			p := start(t, env)
			l := link("ops", values)
			put(t, p, l)
			get := func(key string) spore.GetResponse {
				t.Helper()
				var r spore.GetResponse
				if err := call(p, l, spore.OpKVGet, key, &r); err != nil {
					t.Fatal(err)
				}
				return r
			}
			set := func(key, value string) {
				t.Helper()
				if err := call(p, l, spore.OpKVSet, spore.SetRequest{Key: key, Value: []byte(value)}, nil); err != nil {
					t.Fatal(err)
				}
			}
			boolOp := func(op, key string) bool {
				t.Helper()
				var ok bool
				if err := call(p, l, op, key, &ok); err != nil {
					t.Fatal(err)
				}
				return ok
			}
			incr := func(key string, delta int64) (int64, error) {
				var n int64
				err := call(p, l, spore.OpKVIncrement, spore.IncrementRequest{Key: key, Delta: delta}, &n)
				return n, err
			}
			keys := func(prefix string) string {
				t.Helper()
				var ks []string
				if err := call(p, l, spore.OpKVKeys, prefix, &ks); err != nil {
					t.Fatal(err)
				}
				if ks == nil {
					t.Fatal("Keys answered nil, want an array")
				}
				return strings.Join(ks, ",")
			}

			t.Run("get missing", func(t *testing.T) {
				if r := get("missing"); r.Exists || len(r.Value) != 0 {
					t.Fatalf("missing key: %+v", r)
				}
			})
			t.Run("set and get binary", func(t *testing.T) {
				set("bin", "a\x00b\xff")
				if r := get("bin"); !r.Exists || string(r.Value) != "a\x00b\xff" {
					t.Fatalf("got %+v", r)
				}
				set("bin", "")
				if r := get("bin"); !r.Exists || len(r.Value) != 0 {
					t.Fatalf("empty value: %+v", r)
				}
			})
			t.Run("exists and delete", func(t *testing.T) {
				set("d", "1")
				if !boolOp(spore.OpKVExists, "d") {
					t.Fatal("Exists = false after Set")
				}
				if !boolOp(spore.OpKVDelete, "d") {
					t.Fatal("Delete of an existing key = false")
				}
				if boolOp(spore.OpKVDelete, "d") || boolOp(spore.OpKVExists, "d") {
					t.Fatal("key still there after Delete")
				}
			})
			t.Run("increment", func(t *testing.T) {
				for _, tt := range []struct {
					delta, want int64
				}{{1, 1}, {41, 42}, {-50, -8}, {0, -8}} {
					if n, err := incr("n", tt.delta); err != nil || n != tt.want {
						t.Fatalf("Increment %d = %d, %v; want %d", tt.delta, n, err, tt.want)
					}
				}
				if r := get("n"); string(r.Value) != "-8" {
					t.Fatalf("stored as %q, want decimal text", r.Value)
				}
				set("text", "abc")
				_, err := incr("text", 1)
				if spore.CodeOf(err) != spore.CodeBadRequest || !strings.Contains(err.Error(), "not an integer") {
					t.Fatalf("Increment of text: %v", err)
				}
				set("big", "9223372036854775807")
				if _, err := incr("big", 1); spore.CodeOf(err) != spore.CodeBadRequest {
					t.Fatalf("Increment past int64: %v", err)
				}
			})
			t.Run("keys", func(t *testing.T) {
				for _, k := range []string{"user:1", "user:2", "user.x y", "order/1", "ünï*?[]", "us"} {
					set(k, "v")
				}
				if got := keys("user"); got != "user.x y,user:1,user:2" {
					t.Fatalf("Keys(user) = %s", got)
				}
				if got := keys("ünï*"); got != "ünï*?[]" {
					t.Fatalf("Keys(ünï*) = %q: glob characters must be literal", got)
				}
				if got := keys("none"); got != "" {
					t.Fatalf("Keys(none) = %s", got)
				}
				if all := keys(""); !strings.Contains(all, "order/1") || !strings.Contains(all, "n,") {
					t.Fatalf("Keys() = %s", all)
				}
			})
			t.Run("bad keys", func(t *testing.T) {
				for _, key := range []string{"", strings.Repeat("k", keyvalue.MaxKeyLen+1)} {
					var r spore.GetResponse
					err := call(p, l, spore.OpKVGet, key, &r)
					if spore.CodeOf(err) != spore.CodeBadRequest {
						t.Errorf("Get of a %d-byte key: %v, want bad_request", len(key), err)
					}
				}
			})
			t.Run("ttl", func(t *testing.T) {
				if err := call(p, l, spore.OpKVSet, spore.SetRequest{Key: "ttl", Value: []byte("x"), TTLSeconds: 1}, nil); err != nil {
					t.Fatal(err)
				}
				if !get("ttl").Exists {
					t.Fatal("key with a TTL is gone at once")
				}
				testkit.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error {
					if get("ttl").Exists {
						return errors.New("key with ttl_seconds=1 still exists")
					}
					return nil
				})
			})
			t.Run("atomic increment", func(t *testing.T) {
				var wg sync.WaitGroup
				errs := make(chan error, 200)
				for range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range 25 {
							if _, err := incr("race", 1); err != nil {
								errs <- err
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				if r := get("race"); string(r.Value) != "200" {
					t.Fatalf("8x25 concurrent increments gave %s", r.Value)
				}
			})
		})
	}
}

func TestBuckets(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			env, values := b.setup(t)
			p := start(t, env)
			a, bb, c := link("actor-a", values), link("actor-b", values), link("actor-c", values, "bucket", "shared")
			d := link("actor-d", values, "bucket", "shared")
			for _, l := range []spore.Link{a, bb, c, d} {
				put(t, p, l)
			}
			if err := call(p, a, spore.OpKVSet, spore.SetRequest{Key: "k", Value: []byte("a")}, nil); err != nil {
				t.Fatal(err)
			}
			if err := call(p, c, spore.OpKVSet, spore.SetRequest{Key: "k", Value: []byte("c")}, nil); err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				name string
				l    spore.Link
				want string
			}{{"own default bucket", a, "a"}, {"another actor's default bucket", bb, ""}, {"shared bucket", d, "c"}} {
				var r spore.GetResponse
				if err := call(p, tt.l, spore.OpKVGet, "k", &r); err != nil || string(r.Value) != tt.want {
					t.Errorf("%s: %q, %v; want %q", tt.name, r.Value, err, tt.want)
				}
			}
			// Moving a link to another bucket takes effect on the next call.
			moved := link("actor-a", values, "bucket", "shared")
			put(t, p, moved)
			var r spore.GetResponse
			if err := call(p, moved, spore.OpKVGet, "k", &r); err != nil || string(r.Value) != "c" {
				t.Fatalf("after moving the link: %q, %v", r.Value, err)
			}
		})
	}
}

func TestJetStreamSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	n := providertest.StartNATS(t, dir)
	l := link("persistent", nil)
	p := &keyvalue.Provider{}
	nc := n.Connect(t)
	if err := p.Start(context.Background(), providers.Env{NATS: nc, Lattice: "test"}); err != nil {
		t.Fatal(err)
	}
	put(t, p, l)
	var got int64
	if err := call(p, l, spore.OpKVIncrement, spore.IncrementRequest{Key: "visits", Delta: 5}, &got); err != nil {
		t.Fatal(err)
	}
	p.Stop(context.Background())
	nc.Close()
	n.Shutdown()

	n2 := providertest.StartNATS(t, dir)
	p2 := start(t, providers.Env{NATS: n2.Connect(t), Lattice: "test"})
	put(t, p2, l)
	if err := call(p2, l, spore.OpKVIncrement, spore.IncrementRequest{Key: "visits", Delta: 1}, &got); err != nil || got != 6 {
		t.Fatalf("after a restart: %d, %v; want 6", got, err)
	}
}

func TestNoLattice(t *testing.T) {
	p := start(t, providers.Env{})
	err := p.PutLink(context.Background(), link("a", nil))
	if err == nil || !strings.Contains(err.Error(), "backend=redis") {
		t.Fatalf("jetstream link without NATS: %v", err)
	}
}

func TestRedisDown(t *testing.T) {
	port := testkit.FreePort(t) // nothing listens there
	p := start(t, providers.Env{})
	l := link("a", map[string]string{"backend": "redis", "url": fmt.Sprintf("redis://127.0.0.1:%d", port)})
	put(t, p, l) // the client connects lazily: the link is fine
	var r spore.GetResponse
	err := call(p, l, spore.OpKVGet, "k", &r)
	if spore.CodeOf(err) != spore.CodeUnavailable || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("redis down: %v", err)
	}
}

func TestRedisPasswordIsHidden(t *testing.T) {
	p := &keyvalue.Provider{}
	err := p.ValidateLink(link("a", map[string]string{"backend": "redis", "url": "redis://user:s3cret@[::1"}))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %v shows the password", err)
	}
}

// TestThroughActor calls the provider from a real Wasm actor through the
// host's capability gate.
func TestThroughActor(t *testing.T) {
	env, _ := backends[0].setup(t)
	p := start(t, env)
	pr := providertest.NewProbe(t)
	pr.Serve(p)
	ok := pr.Load(t, "kv-user", spore.ContractKeyValue)
	noClaim := pr.Load(t, "no-claim")
	noLink := pr.Load(t, "no-link", spore.ContractKeyValue)
	for _, a := range []string{ok.ID(), noClaim.ID()} {
		l := link(a, nil)
		pr.PutLink(l)
		put(t, p, l)
	}
	incr, _ := msgpack.Marshal(spore.IncrementRequest{Key: "hits", Delta: 2})
	ctx := context.Background()

	out, err := pr.HostCall(ctx, ok, "", spore.ContractKeyValue, spore.OpKVIncrement, incr)
	var n int64
	if err != nil || msgpack.Unmarshal(out, &n) != nil || n != 2 {
		t.Fatalf("linked actor: %x, %v", out, err)
	}
	for _, tt := range []struct {
		name string
		a    interface{ ID() string }
		want string
	}{
		{"no claim", noClaim, "has no claim for spore:keyvalue"},
		{"no link", noLink, "has no link for spore:keyvalue"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := pr.Host.Actor(tt.a.ID())
			_, err := pr.HostCall(ctx, a, "", spore.ContractKeyValue, spore.OpKVIncrement, incr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	// A link name the actor has no link under is refused too.
	if _, err := pr.HostCall(ctx, ok, "other", spore.ContractKeyValue, spore.OpKVIncrement, incr); err == nil ||
		!strings.Contains(err.Error(), `link name "other"`) {
		t.Fatalf("other link name: %v", err)
	}
}

// FuzzHandle: every operation with payloads decoded from arbitrary bytes,
// on a real JetStream bucket.
func FuzzHandle(f *testing.F) {
	n := providertest.StartNATS(f, "")
	p := &keyvalue.Provider{}
	if err := p.Start(context.Background(), providers.Env{NATS: n.Connect(f), Lattice: "fuzz"}); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { p.Stop(context.Background()) })
	l := link("MFUZZ", nil)
	put(f, p, l)
	key, _ := msgpack.Marshal("k.e y")
	set, _ := msgpack.Marshal(&spore.SetRequest{Key: "k", Value: []byte("1")})
	incr, _ := msgpack.Marshal(&spore.IncrementRequest{Key: "k", Delta: 2})
	providertest.FuzzHandle(f, p, l, []string{spore.OpKVGet, spore.OpKVSet, spore.OpKVDelete, spore.OpKVExists, spore.OpKVIncrement, spore.OpKVKeys}, key, set, incr)
}
