package conformance

import (
	"context"
	"errors"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	ustorage "k8s.io/apiserver/pkg/storage"
	uvalue "k8s.io/apiserver/pkg/storage/value"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/value"
)

// upstream presents a regis storage.Interface as upstream's
// storage.Interface: the same semantics, upstream's types.
type upstream struct {
	s storage.Interface
}

var _ ustorage.Interface = upstream{}

func (u upstream) Versioner() ustorage.Versioner { return ustorage.APIObjectVersioner{} }

func (u upstream) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	return toUpstreamErr(u.s.Create(ctx, key, obj, out, ttl))
}

func (u upstream) Delete(ctx context.Context, key string, out runtime.Object, p *ustorage.Preconditions,
	validate ustorage.ValidateObjectFunc, cached runtime.Object, opts ustorage.DeleteOptions) error {
	return toUpstreamErr(u.s.Delete(ctx, key, out, preconditions(p), storage.ValidateObjectFunc(validate), cached,
		storage.DeleteOptions{ExpectTransformOrDecodeError: opts.ExpectTransformOrDecodeError}))
}

func (u upstream) Watch(ctx context.Context, key string, opts ustorage.ListOptions) (watch.Interface, error) {
	w, err := u.s.Watch(ctx, key, listOptions(opts))
	// Upstream's store tells API priority and fairness that the watch is
	// set up; regis has no such layer, so the adapter does it.
	utilflowcontrol.WatchInitialized(ctx)
	return w, toUpstreamErr(err)
}

func (u upstream) Get(ctx context.Context, key string, opts ustorage.GetOptions, out runtime.Object) error {
	return toUpstreamErr(u.s.Get(ctx, key, storage.GetOptions{IgnoreNotFound: opts.IgnoreNotFound, ResourceVersion: opts.ResourceVersion}, out))
}

func (u upstream) GetList(ctx context.Context, key string, opts ustorage.ListOptions, out runtime.Object) error {
	return toUpstreamErr(u.s.GetList(ctx, key, listOptions(opts), out))
}

func (u upstream) GuaranteedUpdate(ctx context.Context, key string, dest runtime.Object, ignoreNotFound bool,
	p *ustorage.Preconditions, tryUpdate ustorage.UpdateFunc, cached runtime.Object) error {
	try := func(in runtime.Object, res storage.ResponseMeta) (runtime.Object, *uint64, error) {
		return tryUpdate(in, ustorage.ResponseMeta{TTL: res.TTL, ResourceVersion: res.ResourceVersion})
	}
	return toUpstreamErr(u.s.GuaranteedUpdate(ctx, key, dest, ignoreNotFound, preconditions(p), try, cached))
}

func (u upstream) Stats(ctx context.Context) (ustorage.Stats, error) {
	st, err := u.s.Stats(ctx)
	return ustorage.Stats{ObjectCount: st.ObjectCount, EstimatedAverageObjectSizeBytes: st.EstimatedAverageObjectSizeBytes}, toUpstreamErr(err)
}

func (u upstream) ReadinessCheck() error { return toUpstreamErr(u.s.ReadinessCheck()) }

func (u upstream) RequestWatchProgress(ctx context.Context) error {
	return toUpstreamErr(u.s.RequestWatchProgress(ctx))
}

func (u upstream) GetCurrentResourceVersion(ctx context.Context) (uint64, error) {
	rv, err := u.s.GetCurrentResourceVersion(ctx)
	return rv, toUpstreamErr(err)
}

func (u upstream) EnableResourceSizeEstimation(keys ustorage.KeysFunc) error {
	return toUpstreamErr(u.s.EnableResourceSizeEstimation(storage.KeysFunc(keys)))
}

func (u upstream) CompactRevision() int64 { return u.s.CompactRevision() }

func preconditions(p *ustorage.Preconditions) *storage.Preconditions {
	if p == nil {
		return nil
	}
	return &storage.Preconditions{UID: p.UID, ResourceVersion: p.ResourceVersion}
}

func listOptions(o ustorage.ListOptions) storage.ListOptions {
	return storage.ListOptions{
		ResourceVersion:      o.ResourceVersion,
		ResourceVersionMatch: o.ResourceVersionMatch,
		Predicate: storage.SelectionPredicate{
			Label:               o.Predicate.Label,
			Field:               o.Predicate.Field,
			GetAttrs:            storage.AttrFunc(o.Predicate.GetAttrs),
			IndexLabels:         o.Predicate.IndexLabels,
			IndexFields:         o.Predicate.IndexFields,
			Limit:               o.Predicate.Limit,
			Continue:            o.Predicate.Continue,
			AllowWatchBookmarks: o.Predicate.AllowWatchBookmarks,
		},
		Recursive:         o.Recursive,
		ProgressNotify:    o.ProgressNotify,
		SendInitialEvents: o.SendInitialEvents,
	}
}

// toUpstreamErr turns regis's typed storage errors into upstream's, which
// the suite recognises by type; API status errors are shared and pass as they are.
func toUpstreamErr(err error) error {
	if err == nil {
		return nil
	}
	var se *storage.StorageError
	if errors.As(err, &se) && err == error(se) {
		msg := ""
		if se.Err != nil {
			msg = se.Err.Error()
		}
		switch se.Code {
		case storage.ErrCodeKeyNotFound:
			return ustorage.NewKeyNotFoundError(se.Key, se.ResourceVersion)
		case storage.ErrCodeKeyExists:
			return ustorage.NewKeyExistsError(se.Key, se.ResourceVersion)
		case storage.ErrCodeResourceVersionConflicts:
			return ustorage.NewResourceVersionConflictsError(se.Key, se.ResourceVersion)
		case storage.ErrCodeInvalidObj:
			return ustorage.NewInvalidObjError(se.Key, msg)
		case storage.ErrCodeUnreachable:
			return ustorage.NewUnreachableError(se.Key, se.ResourceVersion)
		case storage.ErrCodeTimeout:
			return ustorage.NewTimeoutError(se.Key, msg)
		case storage.ErrCodeCorruptObj:
			return ustorage.NewCorruptObjError(se.Key, se.Err)
		}
	}
	switch e := err.(type) {
	case storage.InternalError:
		if e.Err != nil {
			return ustorage.NewInternalError(e.Err)
		}
		return ustorage.NewInternalError(errors.New(e.Reason))
	case storage.InvalidError:
		return ustorage.NewInvalidError(e.Errs)
	}
	if errors.Is(err, storage.ErrResourceVersionSetOnCreate) {
		return ustorage.ErrResourceVersionSetOnCreate
	}
	return err
}

// swappableTransformer is the store's transformer in the suite, so that
// tests can replace it (upstream mutates its store's field directly).
type swappableTransformer struct {
	mu sync.RWMutex
	t  uvalue.Transformer
}

func (s *swappableTransformer) get() uvalue.Transformer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t
}

// swap replaces the transformer and returns a function restoring the old one.
func (s *swappableTransformer) swap(next uvalue.Transformer) func() {
	s.mu.Lock()
	prev := s.t
	s.t = next
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.t = prev
		s.mu.Unlock()
	}
}

func (s *swappableTransformer) TransformFromStorage(ctx context.Context, data []byte, dc value.Context) ([]byte, bool, error) {
	return s.get().TransformFromStorage(ctx, data, uvalue.DefaultContext(dc.AuthenticatedData()))
}

func (s *swappableTransformer) TransformToStorage(ctx context.Context, data []byte, dc value.Context) ([]byte, error) {
	return s.get().TransformToStorage(ctx, data, uvalue.DefaultContext(dc.AuthenticatedData()))
}
