package encryptionconfig

import (
	"context"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage/value"
)

// Transformers hands out per-resource transformers that always use the
// current Set: a store built once sees a reloaded configuration on its next
// operation. Reads of the current Set are one atomic load, no lock.
type Transformers struct {
	cur atomic.Pointer[Set]
}

// NewTransformers starts with initial; nil means no configuration
// (identity everywhere).
func NewTransformers(initial *Set) *Transformers {
	d := &Transformers{}
	d.cur.Store(initial)
	return d
}

// Current returns the Set in use (nil when none is configured).
func (d *Transformers) Current() *Set { return d.cur.Load() }

// Swap makes next current and returns the Set it replaces. The caller owns
// the old Set: close it once operations that may hold its transformers are
// over (Set.CloseGracePeriod).
func (d *Transformers) Swap(next *Set) (old *Set) { return d.cur.Swap(next) }

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
