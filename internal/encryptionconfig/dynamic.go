package encryptionconfig

import (
	"context"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage/value"
)

// Transformers hands out per-resource transformers that always use the
// current Set: a store built once sees a reloaded configuration on its next
// operation. Reads of the current Set are one atomic load, no lock.
type Transformers struct {
	cur atomic.Pointer[Set]

	mu      sync.Mutex    // guards changed
	changed chan struct{} // closed by the next Swap
}

// NewTransformers starts with initial; nil means no configuration
// (identity everywhere).
func NewTransformers(initial *Set) *Transformers {
	d := &Transformers{changed: make(chan struct{})}
	d.cur.Store(initial)
	return d
}

// Changed returns a channel closed at the next Swap: watchers of the
// configuration (a server publishing the keys it reads) wait on it, then
// call Current and Changed again.
func (d *Transformers) Changed() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.changed
}

// Current returns the Set in use (nil when none is configured).
func (d *Transformers) Current() *Set { return d.cur.Load() }

// Swap makes next current and returns the Set it replaces. The caller owns
// the old Set: close it once operations that may hold its transformers are
// over (Set.CloseGracePeriod).
func (d *Transformers) Swap(next *Set) (old *Set) {
	old = d.cur.Swap(next)
	d.mu.Lock()
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
	return old
}

// Healthy reports the health of the current Set's KMS providers.
func (d *Transformers) Healthy(ctx context.Context) error { return d.Current().Healthy(ctx) }

// TransformerForResource returns the transformer the store uses for gr; each
// call on it resolves gr in the then-current Set.
func (d *Transformers) TransformerForResource(gr schema.GroupResource) value.Transformer {
	return &resourceTransformer{gr: gr, d: d}
}

type resourceTransformer struct {
	gr schema.GroupResource
	d  *Transformers
}

func (r *resourceTransformer) TransformFromStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	return r.d.Current().TransformerForResource(r.gr).TransformFromStorage(ctx, data, dataCtx)
}

func (r *resourceTransformer) TransformToStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, error) {
	return r.d.Current().TransformerForResource(r.gr).TransformToStorage(ctx, data, dataCtx)
}
