package lattice

import "context"

// Trace context travels in invocations as W3C traceparent/tracestate
// values. Spore does not start spans itself; it carries what the caller's
// context holds, so a tracer on either side sees one trace.

type traceKey struct{}

// WithTrace returns a context carrying W3C trace context values.
func WithTrace(ctx context.Context, carrier map[string]string) context.Context {
	return withTrace(ctx, carrier)
}

func withTrace(ctx context.Context, carrier map[string]string) context.Context {
	if len(carrier) == 0 {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, carrier)
}

// TraceFrom returns the trace context values a context carries.
func TraceFrom(ctx context.Context) map[string]string { return traceFrom(ctx) }

func traceFrom(ctx context.Context) map[string]string {
	m, _ := ctx.Value(traceKey{}).(map[string]string)
	return m
}
