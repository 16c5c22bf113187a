package conformance

import (
	"context"
	"errors"
	"sort"
	"sync/atomic"

	uvalue "k8s.io/apiserver/pkg/storage/value"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// failingReads fails every read while failing is set.
type failingReads struct {
	inner   uvalue.Transformer
	failing atomic.Bool
}

func (f *failingReads) TransformFromStorage(ctx context.Context, data []byte, dc uvalue.Context) ([]byte, bool, error) {
	if f.failing.Load() {
		return nil, false, errors.New("synthetic error")
	}
	return f.inner.TransformFromStorage(ctx, data, dc)
}

func (f *failingReads) TransformToStorage(ctx context.Context, data []byte, dc uvalue.Context) ([]byte, error) {
	return f.inner.TransformToStorage(ctx, data, dc)
}
