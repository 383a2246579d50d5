package host

import (
	"log/slog"
	"time"

	"github.com/spore-run/spore/signing"
)

// Defaults, chosen from the numbers in docs/benchmarks.md.
const (
	DefaultMaxInstances = 8
	DefaultWarm         = 1
	DefaultMemoryLimit  = 64 << 20 // bytes per instance
	DefaultTimeout      = 10 * time.Second
)

// Limits bound one actor. A zero field takes the host's default.
type Limits struct {
	// MaxInstances is how many invocations of the actor run at once on this
	// host; more wait for a free instance.
	MaxInstances int `json:"max_instances,omitempty"`
	// Warm is how many instances are made when the actor loads.
	Warm int `json:"warm,omitempty"`
	// MemoryLimit caps the linear memory of each instance, in bytes.
	MemoryLimit uint64 `json:"memory_limit,omitempty"`
	// Timeout is the deadline of one invocation.
	Timeout time.Duration `json:"timeout,omitempty"`
}

func (l Limits) orDefaults(d Limits) Limits {
	if l.MaxInstances <= 0 {
		l.MaxInstances = d.MaxInstances
	}
	if l.MaxInstances > MaxInstancesLimit {
		l.MaxInstances = MaxInstancesLimit
	}
	if l.Warm <= 0 {
		l.Warm = d.Warm
	}
	if l.Warm > l.MaxInstances {
		l.Warm = l.MaxInstances
	}
	if l.MemoryLimit == 0 {
		l.MemoryLimit = d.MemoryLimit
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// Config configures a Host. It is an immutable value: each With method
// returns a copy. Errors surface from New, not from the With methods.
//
//	cfg := host.NewConfig().WithCacheDir(dir).WithLogger(logger)
//	h, err := host.New(ctx, cfg)
type Config struct {
	cacheDir string
	limits   Limits
	logger   *slog.Logger
	verify   signing.VerifyOptions
	links    LinkSource
	router   Router
	noTimer  bool
}

// NewConfig returns the default configuration: no compilation cache on disk,
// the default limits, slog.Default, any valid issuer, no links and no router
// (so only the logging claim and local actor calls do anything).
func NewConfig() Config {
	return Config{
		limits: Limits{
			MaxInstances: DefaultMaxInstances,
			Warm:         DefaultWarm,
			MemoryLimit:  DefaultMemoryLimit,
			Timeout:      DefaultTimeout,
		},
	}
}

// WithCacheDir keeps compiled modules in dir, so a second process does not
// compile the same module again. Empty means in memory only.
func (c Config) WithCacheDir(dir string) Config { c.cacheDir = dir; return c }

// CacheDir returns the compilation cache directory, or "".
func (c Config) CacheDir() string { return c.cacheDir }

// WithLimits sets the defaults for actors loaded without their own limits.
// Zero fields keep the built-in defaults.
func (c Config) WithLimits(l Limits) Config { c.limits = l.orDefaults(c.limits); return c }

// WithLogger sets the structured log that receives guest output and logs.
func (c Config) WithLogger(l *slog.Logger) Config { c.logger = l; return c }

// WithTrustedIssuers refuses actors signed by any other account key.
func (c Config) WithTrustedIssuers(keys ...string) Config {
	c.verify.TrustedIssuers = append([]string(nil), keys...)
	return c
}

// WithClock sets the clock used to check claims' validity windows.
func (c Config) WithClock(now func() time.Time) Config { c.verify.Now = now; return c }

// WithLinks sets where the gate finds links for linked contracts.
func (c Config) WithLinks(l LinkSource) Config { c.links = l; return c }

// WithRouter sets where allowed host calls go when no local actor serves
// them.
func (c Config) WithRouter(r Router) Config { c.router = r; return c }

// WithoutDeadlines turns off the per-invocation deadline and the loop
// instrumentation that enforces it. Only for measuring what the deadline
// costs: a looping guest then blocks its caller for ever.
func (c Config) WithoutDeadlines() Config { c.noTimer = true; return c }
