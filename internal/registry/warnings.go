package registry

import "context"

// Warnings are what upstream's strategies return from WarningsOnCreate
// and WarningsOnUpdate: messages for the client (deprecated fields,
// settings that do nothing), sent back as Warning headers. The API layer
// installs a recorder in each request's context; the store adds to it.

type warningsKey struct{}

// WithWarnings returns a context whose requests record warnings with add.
func WithWarnings(ctx context.Context, add func(msg string)) context.Context {
	return context.WithValue(ctx, warningsKey{}, add)
}

// AddWarning records a warning for the request of ctx; without a recorder
// it does nothing.
func AddWarning(ctx context.Context, msg string) {
	if add, ok := ctx.Value(warningsKey{}).(func(string)); ok && msg != "" {
		add(msg)
	}
}

func addWarnings(ctx context.Context, msgs []string) {
	for _, m := range msgs {
		AddWarning(ctx, m)
	}
}
