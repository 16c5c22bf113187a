// Package value transforms values between their encoded form and the bytes
// stored in etcd: the seam where encryption at rest plugs in. Every
// transformation is bound to the etcd key through Context.
package value

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// Context is the data a transformation is bound to: the full etcd key,
// used as authenticated data by the AEAD providers.
type Context interface {
	AuthenticatedData() []byte
}

// DefaultContext is a Context over a byte slice (the etcd key).
type DefaultContext []byte

// AuthenticatedData implements Context.
func (c DefaultContext) AuthenticatedData() []byte { return c }

// Reader turns stored bytes back into encoded bytes. stale reports a value
// that the current write transformer would store differently (another
// provider or key), so that a rewrite re-encrypts it.
type Reader interface {
	TransformFromStorage(ctx context.Context, data []byte, dataCtx Context) (out []byte, stale bool, err error)
}

// Writer turns encoded bytes into the bytes to store.
type Writer interface {
	TransformToStorage(ctx context.Context, data []byte, dataCtx Context) (out []byte, err error)
}

// Transformer reads and writes stored values.
type Transformer interface {
	Reader
	Writer
}

// encryptedPrefix starts every value written by an encrypting provider.
var encryptedPrefix = []byte("k8s:enc:")

// ErrIdentityReadEncrypted is the identity transformer's refusal of an encrypted value.
var ErrIdentityReadEncrypted = errors.New("identity transformer tried to read encrypted data")

type identity struct{}

// Identity stores values as they are. It refuses to read values that an
// encrypting provider wrote, so a missing provider is an error, not garbage.
var Identity Transformer = identity{}

func (identity) TransformFromStorage(_ context.Context, data []byte, _ Context) ([]byte, bool, error) {
	if bytes.HasPrefix(data, encryptedPrefix) {
		return nil, false, ErrIdentityReadEncrypted
	}
	return data, false, nil
}

func (identity) TransformToStorage(_ context.Context, data []byte, _ Context) ([]byte, error) {
	return data, nil
}

// PrefixTransformer is a transformer selected by the prefix of the stored value.
type PrefixTransformer struct {
	Prefix      []byte
	Transformer Transformer
}

type prefixTransformers struct {
	transformers []PrefixTransformer
	err          error
}

// NewPrefixTransformers writes with the first transformer (prefixing its
// output) and reads with every transformer whose prefix the value carries.
// A value read by any transformer but the first is stale. err is returned
// when no prefix matches (a default error when nil).
func NewPrefixTransformers(err error, transformers ...PrefixTransformer) Transformer {
	if err == nil {
		err = errors.New("the provided value does not match any of the supported transformers")
	}
	return &prefixTransformers{transformers: transformers, err: err}
}

func (t *prefixTransformers) TransformFromStorage(ctx context.Context, data []byte, dataCtx Context) ([]byte, bool, error) {
	var errs []error
	for i, p := range t.transformers {
		if !bytes.HasPrefix(data, p.Prefix) {
			continue
		}
		out, stale, err := p.Transformer.TransformFromStorage(ctx, data[len(p.Prefix):], dataCtx)
		if err != nil {
			// An empty prefix matches everything: its failure only means
			// the value is not one of its own.
			if len(p.Prefix) > 0 {
				errs = append(errs, err)
			}
			continue
		}
		return out, stale || i != 0, nil
	}
	if len(errs) == 1 {
		return nil, false, errs[0]
	}
	if len(errs) > 1 {
		return nil, false, errors.Join(errs...)
	}
	return nil, false, t.err
}

func (t *prefixTransformers) TransformToStorage(ctx context.Context, data []byte, dataCtx Context) ([]byte, error) {
	if len(t.transformers) == 0 {
		return nil, fmt.Errorf("no transformer configured for writing")
	}
	first := t.transformers[0]
	out, err := first.Transformer.TransformToStorage(ctx, data, dataCtx)
	if err != nil {
		return nil, err
	}
	res := make([]byte, 0, len(first.Prefix)+len(out))
	res = append(res, first.Prefix...)
	return append(res, out...), nil
}
