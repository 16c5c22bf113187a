package registry

import (
	"context"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// objectLister is a storage that lists the shared objects of a watch cache
// (the cacher).
type objectLister interface {
	ListObjects(ctx context.Context, key string, opts storage.ListOptions) (*cacheable.List, error)
}

// ListObjects is List for streaming encoders: the same objects under the
// same rules, as the watch cache's shared wrappers, which keep each
// object's serializations, so that a list is written by copying bytes.
// ok is false when the resource's storage has no watch cache or its
// objects are converted on the way out: use List then. The items must not
// be changed.
func (s *Store) ListObjects(ctx context.Context, namespace string, opts *metainternalversion.ListOptions) (list *cacheable.List, ok bool, err error) {
	lister, isLister := s.storage.(objectLister)
	if !isLister || s.r.Convert != nil {
		return nil, false, nil
	}
	if opts == nil {
		opts = &metainternalversion.ListOptions{}
	}
	p, err := s.Predicate(opts)
	if err != nil {
		return nil, true, err
	}
	key, recursive, err := s.listKey(namespace, p)
	if err != nil {
		return nil, true, err
	}
	list, err = lister.ListObjects(ctx, key, storage.ListOptions{
		ResourceVersion:      opts.ResourceVersion,
		ResourceVersionMatch: opts.ResourceVersionMatch,
		Predicate:            p,
		Recursive:            recursive,
	})
	if err != nil {
		return nil, true, interpretError(err, opList, s.gr(), "")
	}
	return list, true, nil
}

// cacheWaiter is a storage whose watch cache fills after the server
// starts (the cacher).
type cacheWaiter interface {
	WaitReady(ctx context.Context) error
}

// WaitCache blocks until the resource's watch cache is filled (at once
// when it has none), or ctx ends. Background work that reads every
// object calls it first, so that it reads the cache rather than etcd
// while the cache fills.
func (s *Store) WaitCache(ctx context.Context) error {
	if w, ok := s.storage.(cacheWaiter); ok {
		return w.WaitReady(ctx)
	}
	return ctx.Err()
}
