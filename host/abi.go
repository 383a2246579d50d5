package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/spore-run/spore"
	"github.com/spore-run/spore/internal/interrupt"
)

// The waPC host module. Each function is a GoModuleFunction: it reads its
// parameters from the stack and finds the calling instance through the
// context, with no reflection and no allocation beyond the copies that carry
// data out of guest memory.

var i32 = api.ValueTypeI32

type hostFunc struct {
	name    string
	fn      api.GoModuleFunc
	params  []api.ValueType
	results []api.ValueType
}

var wapcFuncs = []hostFunc{
	{"__guest_request", guestRequest, []api.ValueType{i32, i32}, nil},
	{"__guest_response", guestResponse, []api.ValueType{i32, i32}, nil},
	{"__guest_error", guestError, []api.ValueType{i32, i32}, nil},
	{"__host_call", hostCall, []api.ValueType{i32, i32, i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}},
	{"__host_response_len", hostResponseLen, nil, []api.ValueType{i32}},
	{"__host_response", hostResponse, []api.ValueType{i32}, nil},
	{"__host_error_len", hostErrorLen, nil, []api.ValueType{i32}},
	{"__host_error", hostError, []api.ValueType{i32}, nil},
	{"__console_log", consoleLog, []api.ValueType{i32, i32}, nil},
}

// wapcExports is the set of names the wapc module provides.
var wapcExports = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range wapcFuncs {
		m[f.name] = true
	}
	return m
}()

func instantiateWAPC(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder("wapc")
	for _, f := range wapcFuncs {
		b.NewFunctionBuilder().WithGoModuleFunction(f.fn, f.params, f.results).Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// fault records an ABI misuse and traps the guest. wazero recovers the panic
// and fails the call, and classify reports the recorded cause.
func (inst *instance) faultf(format string, args ...any) {
	if inst.fault == nil {
		inst.fault = fmt.Errorf(format, args...)
	}
	panic(inst.fault)
}

// read copies len bytes at ptr out of guest memory.
func (inst *instance) read(mod api.Module, what string, ptr, n uint32) []byte {
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		inst.faultf("%w: %s at %d, %d bytes, memory is %d bytes", ErrBadPointer, what, ptr, n, mod.Memory().Size())
	}
	out := make([]byte, len(b)) // not append: growslice rounds and checks more
	copy(out, b)
	return out
}

// readString reads a string out of guest memory. A guest names the same
// targets and operations call after call, so when the bytes are those of
// the last string read into last, that string is reused, not allocated.
func (inst *instance) readString(mod api.Module, what string, ptr, n uint64, last *string) string {
	b, ok := mod.Memory().Read(api.DecodeU32(ptr), api.DecodeU32(n))
	if !ok {
		inst.faultf("%w: %s at %d, %d bytes, memory is %d bytes", ErrBadPointer, what, api.DecodeU32(ptr), api.DecodeU32(n), mod.Memory().Size())
	}
	if string(b) != *last {
		*last = string(b)
	}
	return *last
}

func (inst *instance) write(mod api.Module, what string, ptr uint32, b []byte) {
	if !mod.Memory().Write(ptr, b) {
		inst.faultf("%w: %s at %d, %d bytes, memory is %d bytes", ErrBadPointer, what, ptr, len(b), mod.Memory().Size())
	}
}

func mustInstance(ctx context.Context) *instance {
	inst := instanceOf(ctx)
	if inst == nil {
		panic("host: waPC function called outside an invocation")
	}
	inst.checkStopped()
	return inst
}

// checkStopped unwinds the guest once the watchdog has stopped its
// instance. Host functions call it, as the work they do for a guest (a
// copy, a write, random bytes) is charged to no budget: a loop of them
// stops at the next one.
func (inst *instance) checkStopped() {
	if inst.timedOut.Load() {
		panic(errStopped)
	}
}

func guestRequest(ctx context.Context, mod api.Module, stack []uint64) {
	inst := mustInstance(ctx)
	opPtr, msgPtr := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if !mod.Memory().WriteString(opPtr, inst.op) {
		inst.faultf("%w: __guest_request operation at %d, %d bytes, memory is %d bytes", ErrBadPointer, opPtr, len(inst.op), mod.Memory().Size())
	}
	inst.write(mod, "__guest_request payload", msgPtr, inst.payload)
}

func guestResponse(ctx context.Context, mod api.Module, stack []uint64) {
	inst := mustInstance(ctx)
	inst.response = inst.read(mod, "__guest_response", api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
}

func guestError(ctx context.Context, mod api.Module, stack []uint64) {
	inst := mustInstance(ctx)
	inst.guestErr = inst.read(mod, "__guest_error", api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
}

func hostCall(ctx context.Context, mod api.Module, stack []uint64) {
	inst := mustInstance(ctx)
	call := &Call{
		Actor:     inst.actor,
		Binding:   spore.LinkName(inst.readString(mod, "__host_call binding", stack[0], stack[1], &inst.lastBinding)),
		Namespace: inst.readString(mod, "__host_call namespace", stack[2], stack[3], &inst.lastNamespace),
		Operation: inst.readString(mod, "__host_call operation", stack[4], stack[5], &inst.lastOperation),
		Payload:   inst.read(mod, "__host_call payload", api.DecodeU32(stack[6]), api.DecodeU32(stack[7])),
	}
	inst.hostResp, inst.hostErr = nil, nil
	h := inst.actor.host
	err := h.authorize(call)
	var resp []byte
	if err == nil {
		// The callee runs under the caller's context (its trace and its
		// cancellation), not the callCtx, which hides Done on purpose, and
		// within this invocation's deadline: the timer cannot stop a guest
		// while it waits in Go.
		dctx := inst.cc.Context
		if dl := inst.deadline(); !dl.IsZero() {
			if cur, ok := dctx.Deadline(); !ok || dl.Before(cur) {
				c := NewDeadlineContext(dctx, dl)
				defer c.Cancel()
				dctx = c
			}
		}
		resp, err = h.dispatch(dctx, call)
	}
	if err != nil {
		inst.hostErr = []byte(err.Error())
		stack[0] = 0
		return
	}
	inst.hostResp = resp
	stack[0] = 1
}

func hostResponseLen(ctx context.Context, _ api.Module, stack []uint64) {
	stack[0] = uint64(len(mustInstance(ctx).hostResp))
}

func hostResponse(ctx context.Context, mod api.Module, stack []uint64) {
	inst := mustInstance(ctx)
	inst.write(mod, "__host_response", api.DecodeU32(stack[0]), inst.hostResp)
}

func hostErrorLen(ctx context.Context, _ api.Module, stack []uint64) {
	stack[0] = uint64(len(mustInstance(ctx).hostErr))
}

func hostError(ctx context.Context, mod api.Module, stack []uint64) {
	inst := mustInstance(ctx)
	inst.write(mod, "__host_error", api.DecodeU32(stack[0]), inst.hostErr)
}

func consoleLog(ctx context.Context, mod api.Module, stack []uint64) {
	inst := mustInstance(ctx)
	msg := inst.read(mod, "__console_log", api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	inst.actor.host.log.Info(string(msg), "actor", inst.actor.claims.Name, "id", inst.actor.claims.ID, "stream", "console")
}

// errStopped is what yield panics with to unwind a guest that the watchdog
// stopped; classify reports the reason (deadline or cancellation).
var errStopped = errors.New("stopped by the host")

// instantiateYield provides the function that modules instrumented by
// package interrupt call every interrupt.Budget loop turns. It returns the
// next budget, or unwinds the guest once the watchdog has stopped its
// instance. Being a Go call, it is also where the scheduler can preempt the
// goroutine running a busy guest.
func instantiateYield(ctx context.Context, r wazero.Runtime) error {
	_, err := r.NewHostModuleBuilder(interrupt.Module).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(yield), nil, []api.ValueType{i32}).Export(interrupt.Func).
		Instantiate(ctx)
	return err
}

func yield(ctx context.Context, _ api.Module, stack []uint64) {
	if inst := instanceOf(ctx); inst != nil {
		inst.checkStopped()
	}
	stack[0] = interrupt.Budget
}
