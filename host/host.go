package host

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/interrupt"
	"github.com/spore-run/spore/signing"
)

// Host runs actors. It owns one wazero runtime shared by all of them, with the
// waPC and WASI host modules instantiated once.
type Host struct {
	cfg      Config
	log      *slog.Logger
	runtime  wazero.Runtime
	cache    wazero.CompilationCache
	watchdog *watchdog // nil WithoutDeadlines

	mu     sync.Mutex // serializes changes to the table
	table  atomic.Pointer[actorTable]
	closed bool
}

// actorTable is the host's running actors and the names that find them. A
// published table never changes: loading or unloading publishes a copy, so
// that every call, which looks its target up, reads it without a lock
// (whose reader count, on a shared cache line, the cores would fight over).
type actorTable struct {
	byID    map[string]*Actor
	aliases map[string]string // call alias -> id
	names   map[string]string // claims name -> id (of the last loaded, when several share it)
}

func newActorTable() *actorTable {
	return &actorTable{byID: map[string]*Actor{}, aliases: map[string]string{}, names: map[string]string{}}
}

func (t *actorTable) clone() *actorTable {
	return &actorTable{byID: maps.Clone(t.byID), aliases: maps.Clone(t.aliases), names: maps.Clone(t.names)}
}

// lookup finds an actor by id, call alias or claims name.
func (t *actorTable) lookup(ref string) *Actor {
	if a := t.byID[ref]; a != nil {
		return a
	}
	if id, ok := t.aliases[ref]; ok {
		return t.byID[id]
	}
	if id, ok := t.names[ref]; ok {
		return t.byID[id]
	}
	return nil
}

// put adds a, replacing the actor of its id if one runs.
func (t *actorTable) put(a *Actor) {
	if old := t.byID[a.ID()]; old != nil {
		t.remove(old)
	}
	t.byID[a.ID()] = a
	if a.claims.CallAlias != "" {
		t.aliases[a.claims.CallAlias] = a.ID()
	}
	t.names[a.claims.Name] = a.ID()
}

// remove forgets a, handing its name to another actor that has it, if one
// runs.
func (t *actorTable) remove(a *Actor) {
	if t.byID[a.ID()] != a {
		return
	}
	delete(t.byID, a.ID())
	if a.claims.CallAlias != "" && t.aliases[a.claims.CallAlias] == a.ID() {
		delete(t.aliases, a.claims.CallAlias)
	}
	if t.names[a.claims.Name] != a.ID() {
		return
	}
	delete(t.names, a.claims.Name)
	for id, other := range t.byID {
		if other.claims.Name == a.claims.Name {
			t.names[a.claims.Name] = id
			return
		}
	}
}

// New starts a host. The context is used only while starting.
func New(ctx context.Context, cfg Config) (*Host, error) {
	h := &Host{cfg: cfg, log: cfg.logger}
	h.table.Store(newActorTable())
	if h.log == nil {
		h.log = slog.Default()
	}
	var err error
	if cfg.cacheDir != "" {
		if h.cache, err = wazero.NewCompilationCacheWithDir(cfg.cacheDir); err != nil {
			return nil, fmt.Errorf("host: compilation cache %s: %w", cfg.cacheDir, err)
		}
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	// Not WithCloseOnContextDone: it costs a goroutine per call and a call
	// into Go at every loop back-edge. Load instruments modules instead (see
	// package interrupt).
	rc := wazero.NewRuntimeConfig().WithCompilationCache(h.cache)
	h.runtime = wazero.NewRuntimeWithConfig(ctx, rc)
	if !cfg.noTimer {
		h.watchdog = newWatchdog(watchdogTick)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.runtime); err != nil {
		h.runtime.Close(ctx)
		return nil, fmt.Errorf("host: wasi: %w", err)
	}
	if err := instantiateYield(ctx, h.runtime); err != nil {
		h.runtime.Close(ctx)
		return nil, fmt.Errorf("host: yield: %w", err)
	}
	if err := instantiateWAPC(ctx, h.runtime); err != nil {
		h.runtime.Close(ctx)
		return nil, fmt.Errorf("host: wapc: %w", err)
	}
	return h, nil
}

// Load verifies a signed module, compiles it (or takes it from the cache) and
// starts its warm instances. Loading a module whose identity already runs
// here upgrades it when its revision is higher (even when only the claims
// changed, such as a new capability), returns the running actor when the
// module and its claims are the same, and fails with ErrOlderRevision
// otherwise.
func (h *Host) Load(ctx context.Context, module []byte, limits Limits) (*Actor, error) {
	claims, err := signing.Verify(module, h.cfg.verify)
	if err != nil {
		return nil, fmt.Errorf("host: load: %w", err)
	}
	old := h.table.Load().byID[claims.ID]
	if old != nil {
		switch {
		case old.claims.Token == claims.Token:
			return old, nil
		case !signing.IsNewer(old.claims, claims):
			return nil, fmt.Errorf("host: load %s revision %d: %s is at revision %d: %w",
				claims.Name, claims.Revision, old, old.claims.Revision, ErrOlderRevision)
		}
	}
	// Compile the code without its claims: the compilation cache is keyed
	// by the bytes, and re-signing (a new revision, new capabilities) must
	// not compile the same code again.
	code, err := signing.StripCustom(module, signing.SectionName)
	if err == nil {
		if h.watchdog != nil {
			code, err = interrupt.Instrument(code)
		} else {
			err = interrupt.Check(code) // the bounds, without the checks
		}
	}
	if err != nil {
		return nil, fmt.Errorf("host: load %s: %w", claims.Name, err)
	}
	compiled, err := compile(ctx, h.runtime, code)
	if err != nil {
		return nil, fmt.Errorf("host: compile %s: %w", claims.Name, err)
	}
	if err := checkModule(compiled); err != nil {
		compiled.Close(ctx)
		return nil, fmt.Errorf("host: %s: %w", claims.Name, err)
	}
	a := newActor(h, claims, compiled, limits.orDefaults(h.cfg.limits))
	if err := a.pool.warm(ctx, a.limits.Warm); err != nil {
		a.Close(ctx)
		return nil, fmt.Errorf("host: start %s: %w", a, err)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		a.Close(ctx)
		return nil, fmt.Errorf("host: load %s: %w", a, ErrClosed)
	}
	t := h.table.Load().clone()
	old = t.byID[claims.ID]
	t.put(a)
	h.table.Store(t)
	h.mu.Unlock()
	if old != nil {
		h.log.Info("actor upgraded", "actor", claims.Name, "id", claims.ID,
			"from_revision", old.claims.Revision, "to_revision", claims.Revision)
		old.Close(ctx)
	}
	return a, nil
}

// checkModule refuses modules that cannot work as actors before any instance
// is made, so the error names the real cause.
// compile compiles a module, turning a panic in wazero (a malformed module
// it validates but cannot compile, say) into an error: no module crashes
// the host.
func compile(ctx context.Context, r wazero.Runtime, code []byte) (m wazero.CompiledModule, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("%w: the compiler failed on it: %v", ErrNotActor, p)
		}
	}()
	return r.CompileModule(ctx, code)
}

func checkModule(m wazero.CompiledModule) error {
	if _, ok := m.ExportedFunctions()["__guest_call"]; !ok {
		return fmt.Errorf("module does not export __guest_call: %w", ErrNotActor)
	}
	if len(m.ExportedMemories()) == 0 {
		return fmt.Errorf("module does not export a memory: %w", ErrNotActor)
	}
	for _, f := range m.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod == interrupt.Module && name == interrupt.Func {
			continue // added by Load
		}
		if mod != "wapc" && mod != wasi_snapshot_preview1.ModuleName {
			return fmt.Errorf("module imports %s.%s; actors may import only wapc and %s: %w",
				mod, name, wasi_snapshot_preview1.ModuleName, ErrImport)
		}
		if mod == "wapc" && !wapcExports[name] {
			return fmt.Errorf("module imports wapc.%s, which is not part of waPC: %w", name, ErrImport)
		}
	}
	return nil
}

// Actor returns the running actor with that id, call alias or claims name,
// or nil.
func (h *Host) Actor(ref string) *Actor { return h.table.Load().lookup(ref) }

// Actors lists the running actors.
func (h *Host) Actors() []*Actor { return slices.Collect(maps.Values(h.table.Load().byID)) }

// Invoke calls an operation on a running actor named by id, alias or name.
func (h *Host) Invoke(ctx context.Context, ref, op string, payload []byte) ([]byte, error) {
	a := h.Actor(ref)
	if a == nil {
		return nil, spore.Errorf(spore.CodeNotFound, "host: actor %q does not run on this host: %w", ref, ErrNoActor)
	}
	return a.Invoke(ctx, op, payload)
}

// Unload stops an actor and removes it. It returns ErrNoActor if none runs.
func (h *Host) Unload(ctx context.Context, ref string) error {
	a := h.Actor(ref)
	if a == nil {
		return spore.Errorf(spore.CodeNotFound, "host: actor %q does not run on this host: %w", ref, ErrNoActor)
	}
	h.mu.Lock()
	t := h.table.Load().clone()
	t.remove(a)
	h.table.Store(t)
	h.mu.Unlock()
	return a.Close(ctx)
}

// Close stops every actor and the runtime. It is safe to call twice.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	actors := h.table.Swap(newActorTable()).byID
	h.mu.Unlock()
	for _, a := range actors {
		a.Close(ctx)
	}
	if h.watchdog != nil {
		h.watchdog.close()
	}
	return h.runtime.Close(ctx)
}
