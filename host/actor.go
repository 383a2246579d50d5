package host

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/signing"
)

// Actor is one loaded actor: its verified claims, its compiled module and its
// pool of instances.
type Actor struct {
	host     *Host
	claims   *signing.Claims
	compiled wazero.CompiledModule
	mu       sync.Mutex // guards limits.MaxInstances
	limits   Limits
	pool     pool

	invocations counter
	failures    atomic.Uint64
	closeOnce   sync.Once
}

func newActor(h *Host, c *signing.Claims, m wazero.CompiledModule, l Limits) *Actor {
	a := &Actor{host: h, claims: c, compiled: m, limits: l}
	a.pool.init(a, l.MaxInstances)
	return a
}

// ID is the actor's stable identity, the subject of its claims.
func (a *Actor) ID() string { return a.claims.ID }

// Claims returns the verified claims. Do not modify them.
func (a *Actor) Claims() *signing.Claims { return a.claims }

// Limits returns the limits the actor runs with.
func (a *Actor) Limits() Limits {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.limits
}

// String names the actor as errors do: actor "name" (ID).
func (a *Actor) String() string { return fmt.Sprintf("actor %q (%s)", a.claims.Name, a.claims.ID) }

// Stats is a snapshot of an actor's counters.
type Stats struct {
	Invocations uint64 `json:"invocations"`
	Failures    uint64 `json:"failures"`
	Instances   int    `json:"instances"`
	Busy        int    `json:"busy"`
}

// Stats returns the actor's counters.
func (a *Actor) Stats() Stats {
	live, busy := a.pool.counts()
	return Stats{Invocations: a.invocations.sum(), Failures: a.failures.Load(), Instances: live, Busy: busy}
}

// counter is a count that goroutines on different cores add to without
// sharing a cache line: each adds to the stripe its instance names.
type counter [counterStripes]struct {
	n atomic.Uint64
	_ [56]byte
}

const counterStripes = 8

func (c *counter) add(stripe uint32) { c[stripe%counterStripes].n.Add(1) }

func (c *counter) sum() uint64 {
	var s uint64
	for i := range c {
		s += c[i].n.Load()
	}
	return s
}

// Invoke runs one operation. It waits for a free instance when all are busy.
// An error from the guest or from its sandbox is a *spore.Error naming the
// actor and the cause, wrapping one of this package's sentinels.
func (a *Actor) Invoke(ctx context.Context, op string, payload []byte) ([]byte, error) {
	inst, err := a.pool.get(ctx)
	if err != nil {
		a.invocations.add(0)
		a.failures.Add(1)
		return nil, err
	}
	a.invocations.add(inst.stripe)
	out, err := inst.invoke(ctx, op, payload)
	if err != nil {
		a.failures.Add(1)
	}
	a.pool.put(inst)
	return out, err
}

// Scale sets how many invocations of the actor may run at once on this host
// (1 to MaxInstancesLimit). Scaling down waits for running invocations to
// give their instances back.
func (a *Actor) Scale(ctx context.Context, n int) error {
	if n < 1 || n > MaxInstancesLimit {
		return fmt.Errorf("host: scale %s to %d: want 1 to %d", a, n, MaxInstancesLimit)
	}
	if err := a.pool.resize(ctx, n); err != nil {
		return fmt.Errorf("host: scale %s: %w", a, err)
	}
	a.mu.Lock()
	a.limits.MaxInstances = n
	a.mu.Unlock()
	return nil
}

// Close stops the actor's instances once the running invocations finish.
func (a *Actor) Close(ctx context.Context) error {
	a.closeOnce.Do(func() {
		a.pool.close(ctx)
		a.compiled.Close(ctx)
	})
	return nil
}

// pool holds an actor's instances. A slot is a token for one instance: nil
// until the instance is made, or again after it failed. Taking a slot is
// what makes an instance exclusive to one goroutine.
//
// Idle instances wait in a few cells, one cache line each, that a call takes
// from and gives back to with one atomic operation, and in a channel behind
// them, which holds the rest and is where calls wait when every instance is
// busy. With every core invoking one actor, a channel alone was the
// bottleneck: each call locked it twice, and the cores queued on that lock
// (BenchmarkInvokeParallel).
type pool struct {
	actor  *Actor
	cells  []cell
	slots  chan *instance
	done   chan struct{}
	mu     sync.Mutex // serializes resize and close; guards size
	size   int
	slotsN atomic.Int32 // size, for counts, which must not wait for mu
	live   atomic.Int32
	made   atomic.Uint32 // instances made, which stripes their counts
	closed atomic.Bool
	// waiters counts calls about to wait on the channel, and channelOnly
	// is set while resize or close count the slots in the channel: put
	// then gives instances to the channel, not to a cell.
	waiters     atomic.Int32
	channelOnly atomic.Bool
	// hints holds *cellHint: the cell a core starts looking in. A
	// sync.Pool keeps one per P, so each core finds the instance it gave
	// back, in a cell no other core touches while there are enough.
	hints    sync.Pool
	nextHint atomic.Uint32
}

type cellHint struct{ i uint32 }

// cell holds one idle instance, alone on its cache line.
type cell struct {
	inst atomic.Pointer[instance]
	_    [56]byte
}

// MaxInstancesLimit bounds Limits.MaxInstances and Scale.
const MaxInstancesLimit = 1024

func (p *pool) init(a *Actor, n int) {
	p.actor = a
	p.cells = make([]cell, min(2*runtime.GOMAXPROCS(0), 16))
	p.hints.New = func() any { return &cellHint{i: p.nextHint.Add(1) % uint32(len(p.cells))} }
	p.slots = make(chan *instance, MaxInstancesLimit)
	p.done = make(chan struct{})
	p.size = n
	p.slotsN.Store(int32(n))
	for range n {
		p.slots <- nil
	}
}

// resize changes how many slots the pool holds. Shrinking takes slots back
// as invocations finish, so it may wait for running ones.
func (p *pool) resize(ctx context.Context, n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer func() { p.slotsN.Store(int32(p.size)) }()
	p.channelOnly.Store(true)
	defer p.channelOnly.Store(false)
	p.drainCells()
	for ; p.size < n; p.size++ {
		p.slots <- nil
	}
	for ; p.size > n; p.size-- {
		select {
		case inst := <-p.slots:
			if inst != nil {
				inst.close()
				p.live.Add(-1)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// drainCells moves the instances in the cells to the channel. Once
// channelOnly is set, a put that still fills a cell sees the flag after and
// moves its instance itself, if drainCells has not.
func (p *pool) drainCells() {
	for i := range p.cells {
		if inst := p.cells[i].inst.Swap(nil); inst != nil {
			p.slots <- inst
		}
	}
}

// fromCell takes an idle instance from a cell, starting at this core's.
func (p *pool) fromCell() *instance {
	h := p.hints.Get().(*cellHint)
	defer p.hints.Put(h)
	n := uint32(len(p.cells))
	for i := range n {
		k := (h.i + i) % n
		c := &p.cells[k]
		if inst := c.inst.Load(); inst != nil && c.inst.CompareAndSwap(inst, nil) {
			inst.cell = k
			return inst
		}
	}
	return nil
}

// toCell gives an idle instance to a free cell, the one it came from
// first, and reports whether one took it.
func (p *pool) toCell(inst *instance) bool {
	n := uint32(len(p.cells))
	for i := range n {
		if p.cells[(inst.cell+i)%n].inst.CompareAndSwap(nil, inst) {
			return true
		}
	}
	return false
}

// warm makes n instances up front.
func (p *pool) warm(ctx context.Context, n int) error {
	made := make([]*instance, 0, n)
	defer func() {
		for _, inst := range made {
			p.put(inst)
		}
	}()
	for range n {
		inst, err := p.get(ctx)
		if err != nil {
			return err
		}
		made = append(made, inst)
	}
	return nil
}

func (p *pool) get(ctx context.Context) (*instance, error) {
	inst, ok := p.tryTake()
	if !ok {
		var err error
		if inst, err = p.wait(ctx); err != nil {
			return nil, err
		}
	}
	if p.closed.Load() {
		p.slots <- inst
		return nil, spore.Errorf(spore.CodeUnavailable, "%s is stopping: %w", p.actor, ErrClosed)
	}
	if inst != nil {
		return inst, nil
	}
	inst, err := newInstance(ctx, p.actor)
	if err != nil {
		p.slots <- nil
		return nil, err
	}
	inst.stripe = p.made.Add(1)
	p.live.Add(1)
	return inst, nil
}

// tryTake takes a slot if one is free: an idle instance from a cell, or a
// slot from the channel (nil when its instance is not made yet).
func (p *pool) tryTake() (*instance, bool) {
	if inst := p.fromCell(); inst != nil {
		return inst, true
	}
	select {
	case inst := <-p.slots:
		return inst, true
	default:
		return nil, false
	}
}

// wait takes a slot once one is free.
func (p *pool) wait(ctx context.Context) (*instance, error) {
	// Count this call as waiting before looking at the cells again: a put
	// that filled a cell meanwhile is either seen here, or sees the count
	// and moves its instance to the channel.
	p.waiters.Add(1)
	defer p.waiters.Add(-1)
	if inst := p.fromCell(); inst != nil {
		return inst, nil
	}
	select {
	case inst := <-p.slots:
		return inst, nil
	case <-p.done:
		return nil, spore.Errorf(spore.CodeUnavailable, "%s is stopping: %w", p.actor, ErrClosed)
	case <-ctx.Done():
		return nil, spore.Errorf(spore.CodeTimeout, "%s: no free instance: %w", p.actor, ctx.Err())
	}
}

// put returns an instance to the pool; a broken one is closed and its slot
// left empty, so the next get makes a fresh instance.
func (p *pool) put(inst *instance) {
	if inst.broken || p.closed.Load() {
		inst.close()
		p.live.Add(-1)
		p.slots <- nil
		return
	}
	if p.waiters.Load() == 0 && !p.channelOnly.Load() && p.toCell(inst) {
		// Filled a cell; if a call started waiting on the channel, or a
		// resize or close started counting it, in the meantime, move the
		// instance there (unless someone took it already).
		if p.waiters.Load() == 0 && !p.channelOnly.Load() && !p.closed.Load() {
			return
		}
		if !p.takeBack(inst) {
			return
		}
	}
	p.slots <- inst
}

// takeBack takes inst out of the cell it was given to, and reports
// whether it was still there.
func (p *pool) takeBack(inst *instance) bool {
	for i := range p.cells {
		if p.cells[i].inst.CompareAndSwap(inst, nil) {
			return true
		}
	}
	return false
}

// counts reports the instances made and those in use: the slots in
// neither the channel nor a cell. Taking and giving back a slot touch no
// shared counter, so that invocations on several cores do not contend on
// one.
func (p *pool) counts() (live, busy int) {
	idle := len(p.slots)
	for i := range p.cells {
		if p.cells[i].inst.Load() != nil {
			idle++
		}
	}
	return int(p.live.Load()), max(int(p.slotsN.Load())-idle, 0)
}

// close refuses new invocations, then takes every slot back (waiting for
// running invocations) and closes the instances.
func (p *pool) close(ctx context.Context) {
	if p.closed.Swap(true) {
		return
	}
	close(p.done)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.channelOnly.Store(true)
	p.drainCells()
	for range p.size {
		select {
		case inst := <-p.slots:
			if inst != nil {
				inst.close()
				p.live.Add(-1)
			}
		case <-ctx.Done():
			return
		}
	}
}
