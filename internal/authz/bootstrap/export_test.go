package bootstrap

// WithSnapshots is withSnapshots, for tests.
var WithSnapshots = withSnapshots
