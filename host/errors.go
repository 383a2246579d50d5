package host

import "errors"

// Sentinel errors. Invocation errors wrap one of these together with a
// *spore.Error that names the actor and carries a stable code.
var (
	// ErrNotActor means the module lacks the waPC exports an actor needs.
	ErrNotActor = errors.New("not a waPC actor")
	// ErrImport means the module imports something the host does not provide.
	ErrImport = errors.New("unsupported import")
	// ErrGuest means the guest returned an error from __guest_call.
	ErrGuest = errors.New("guest error")
	// ErrTrap means the instance trapped or exited; it was replaced.
	ErrTrap = errors.New("instance trapped")
	// ErrOutOfMemory means the instance hit its memory limit; it was replaced.
	ErrOutOfMemory = errors.New("out of memory")
	// ErrDeadline means the invocation ran past its deadline; the instance
	// was stopped and replaced.
	ErrDeadline = errors.New("deadline exceeded")
	// ErrBadPointer means the guest passed a pointer outside its memory.
	ErrBadPointer = errors.New("pointer outside guest memory")
	// ErrDenied means a host call was refused by the capability gate.
	ErrDenied = errors.New("denied")
	// ErrNoActor means no actor with that id, alias or name runs here.
	ErrNoActor = errors.New("no such actor")
	// ErrOlderRevision means a module with the same identity and a revision
	// at least as high is already loaded.
	ErrOlderRevision = errors.New("revision not newer than the running one")
	// ErrClosed means the actor or host was closed.
	ErrClosed = errors.New("closed")
)
