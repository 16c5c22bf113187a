package etcd3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/v3/kubernetes"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/value"
)

// maxLimit caps the page size a filtered list grows to when it re-reads etcd.
const maxLimit = 10000

// Upstream's 410 messages for lists.
const (
	expiredList     = "The resourceVersion for the provided list is too old."
	continueExpired = "The provided continue parameter is too old " +
		"to display a consistent list result. You can start a new list without " +
		"the continue parameter."
	inconsistentContinue = "The provided continue parameter is too old " +
		"to display a consistent list result. You can start a new list without " +
		"the continue parameter, or use the continue token in this response to " +
		"retrieve the remainder of the results. Continuing with the provided " +
		"token results in an inconsistent list - objects that were created, " +
		"modified, or deleted between the time the first chunk was returned " +
		"and now may show up in the list."
)

// GetList implements storage.Interface. A recursive list reads pages at one
// pinned revision; when the predicate drops items the page size doubles (up
// to 10,000) until the requested limit is filled or the range ends.
func (s *Store) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	keyPrefix, err := s.prepareKey(key, opts.Recursive)
	if err != nil {
		return err
	}
	listPtr, err := meta.GetItemsPtr(listObj)
	if err != nil {
		return err
	}
	v, err := conversion.EnforcePtr(listPtr)
	if err != nil || v.Kind() != reflect.Slice {
		return fmt.Errorf("need ptr to slice: %v", err)
	}
	reset := resetItemFunc(listObj)
	withRev, continueKey, err := storage.ValidateListOptions(keyPrefix, s.versioner, opts)
	if err != nil {
		return err
	}
	limit := opts.Predicate.Limit
	paging := limit > 0
	errs := s.newListErrors()

	var (
		lastKey  []byte
		hasMore  bool
		count    int64
		fetched  int
		pinned   = withRev
		firstRun = true
	)
	defer func() {
		s.metrics.listFetchedTotal.WithLabelValues(s.groupResource.Group, s.groupResource.Resource, "etcd").Add(float64(fetched))
		s.metrics.listReturnedTotal.WithLabelValues(s.groupResource.Group, s.groupResource.Resource, "etcd").Add(float64(v.Len()))
	}()
	for {
		resp, err := s.readRange(ctx, keyPrefix, opts.Recursive, kubernetes.ListOptions{Revision: pinned, Limit: limit, Continue: continueKey})
		if err != nil {
			return s.listReadError(ctx, err, pinned, opts.Predicate.Continue != "", continueKey, keyPrefix)
		}
		if firstRun && pinned == 0 {
			if err := s.validateMinimumResourceVersion(opts.ResourceVersion, uint64(resp.Revision)); err != nil {
				return err
			}
			pinned = resp.Revision
		}
		firstRun = false
		more := int64(len(resp.Kvs)) < resp.Count
		if len(resp.Kvs) == 0 && more {
			return fmt.Errorf("no results were found, but etcd indicated there were more values remaining")
		}
		fetched += len(resp.Kvs)
		count = resp.Count
		if len(resp.Kvs) > 0 {
			continueKey = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		}
		chunkLast, limitReached, err := s.appendItems(ctx, resp.Kvs, opts.Predicate, reset, errs, v, paging)
		if err != nil {
			return err
		}
		if chunkLast != nil {
			lastKey = chunkLast
		}
		hasMore = more || limitReached
		if limitReached || !more || (paging && int64(v.Len()) >= limit) {
			break
		}
		if limit < maxLimit {
			limit = min(limit*2, maxLimit)
		}
	}
	if err := errs.aggregate(); err != nil {
		return err
	}
	if v.IsNil() {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	token, remaining, err := storage.PrepareContinueToken(string(lastKey), keyPrefix, pinned, count, hasMore, opts)
	if err != nil {
		return err
	}
	return s.versioner.UpdateList(listObj, uint64(pinned), token, remaining)
}

// readRange reads one page (recursive) or the single key.
func (s *Store) readRange(ctx context.Context, keyPrefix string, recursive bool, o kubernetes.ListOptions) (kubernetes.ListResponse, error) {
	start := time.Now()
	if recursive {
		resp, err := s.kv.List(ctx, keyPrefix, o)
		s.metrics.recordRequest("list", s.groupResource, err, start)
		if err == nil {
			s.observeSizes(resp.Kvs)
		}
		return resp, err
	}
	got, err := s.kv.Get(ctx, keyPrefix, kubernetes.GetOptions{Revision: o.Revision})
	s.metrics.recordRequest("get", s.groupResource, err, start)
	if err != nil {
		return kubernetes.ListResponse{}, err
	}
	resp := kubernetes.ListResponse{Revision: got.Revision}
	if got.KV != nil {
		resp.Kvs, resp.Count = []*mvccpb.KeyValue{got.KV}, 1
		s.observeSizes(resp.Kvs)
	}
	return resp, nil
}

// appendItems decodes kvs and appends those matching pred to v, decoding
// each object in place in the list's backing array (no copy per item).
// lastKey is the last key evaluated, matched or not; the continue token
// resumes after it. An unpaged chunk of many values is decoded on several
// cores; a page stops at its limit, so it is decoded in order.
func (s *Store) appendItems(ctx context.Context, kvs []*mvccpb.KeyValue, pred storage.SelectionPredicate,
	reset func(reflect.Value), errs *listErrors, v reflect.Value, paging bool) (lastKey []byte, limitReached bool, err error) {
	if !paging && len(kvs) >= parallelDecodeMin && goruntime.GOMAXPROCS(0) > 1 {
		lastKey, err := s.appendItemsParallel(ctx, kvs, pred, reset, errs, v)
		return lastKey, false, err
	}
	if want := v.Len() + len(kvs); v.Cap() < want && pred.Empty() {
		grow(v, want)
	}
	for i, kv := range kvs {
		if paging && int64(v.Len()) >= pred.Limit {
			return lastKey, true, nil
		}
		lastKey = kv.Key
		n := v.Len()
		if n == v.Cap() {
			grow(v, max(2*n, 16))
		}
		v.SetLen(n + 1)
		item := s.decodeItem(ctx, kv, pred, reset, v.Index(n), errs.enabled)
		if !item.keep {
			v.SetLen(n)
		}
		if item.fatal != nil {
			return lastKey, false, item.fatal
		}
		if item.err != nil {
			if err := errs.add(string(kv.Key), item.err); err != nil {
				return lastKey, false, err
			}
			continue
		}
		kvs[i] = nil // let a long list's values go as they are decoded
	}
	return lastKey, false, nil
}

// parallelDecodeMin is the smallest chunk decoded on several cores, and
// maxDecodeWorkers the most cores one list uses.
const (
	parallelDecodeMin = 256
	maxDecodeWorkers  = 4
)

// appendItemsParallel decodes every value of kvs into slots after v's
// items on up to maxDecodeWorkers cores, then walks them in key order, as
// appendItems would: errors are reported in order, an abort keeps only the
// items before it, and items the predicate drops are squeezed out.
func (s *Store) appendItemsParallel(ctx context.Context, kvs []*mvccpb.KeyValue, pred storage.SelectionPredicate,
	reset func(reflect.Value), errs *listErrors, v reflect.Value) (lastKey []byte, err error) {
	base := v.Len()
	if v.Cap() < base+len(kvs) {
		grow(v, base+len(kvs))
	}
	v.SetLen(base + len(kvs))
	items := make([]decodedItem, len(kvs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(goruntime.GOMAXPROCS(0), maxDecodeWorkers) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(kvs); i = int(next.Add(1) - 1) {
				items[i] = s.decodeItem(ctx, kvs[i], pred, reset, v.Index(base+i), errs.enabled)
			}
		})
	}
	wg.Wait()
	kept := base
	// keep only v[:kept]: the slots after it are zeroed so that they hold nothing.
	done := func() {
		for i := kept; i < base+len(kvs); i++ {
			v.Index(i).SetZero()
		}
		v.SetLen(kept)
	}
	defer done()
	for i, kv := range kvs {
		lastKey = kv.Key
		item := items[i]
		if item.fatal != nil {
			return lastKey, item.fatal
		}
		if item.err != nil {
			if err := errs.add(string(kv.Key), item.err); err != nil {
				return lastKey, err
			}
			continue
		}
		if item.keep {
			if kept != base+i {
				v.Index(kept).Set(v.Index(base + i))
			}
			kept++
		}
		kvs[i] = nil
	}
	return lastKey, nil
}

// decodedItem is what became of one stored value in a list.
type decodedItem struct {
	keep  bool  // decoded into its slot and selected
	err   error // the value cannot be read: reported through listErrors
	fatal error // the list must stop (its context ended)
}

// decodeItem transforms and decodes kv into slot, which it zeroes unless
// the object is kept.
func (s *Store) decodeItem(ctx context.Context, kv *mvccpb.KeyValue, pred storage.SelectionPredicate,
	reset func(reflect.Value), slot reflect.Value, markCorrupt bool) decodedItem {
	data, _, err := s.transformer.TransformFromStorage(ctx, kv.Value, value.DefaultContext(kv.Key))
	if err != nil {
		return decodedItem{err: storage.NewInternalError(fmt.Errorf("unable to transform key %q: %w", kv.Key, err))}
	}
	if ctx.Err() != nil {
		return decodedItem{fatal: storage.NewTimeoutError(string(kv.Key), "request did not complete within requested timeout")}
	}
	reset(slot)
	obj := slot.Addr().Interface().(runtime.Object)
	if err := s.decode(string(kv.Key), data, obj, kv.ModRevision); err != nil {
		slot.SetZero()
		// Bytes that do not decode are corrupt, whatever the mode.
		if markCorrupt {
			err = &CorruptObjectError{Err: err}
		}
		return decodedItem{err: err}
	}
	if ok, err := pred.Matches(obj); err != nil || !ok {
		slot.SetZero()
		return decodedItem{}
	}
	return decodedItem{keep: true}
}

// grow gives the slice v room for capacity elements.
func grow(v reflect.Value, capacity int) {
	grown := reflect.MakeSlice(v.Type(), v.Len(), capacity)
	reflect.Copy(grown, v)
	v.Set(grown)
}

// resetItemFunc returns how a list item is prepared before decoding into
// it: zeroed, or for an unstructured list, given the list's item kind.
func resetItemFunc(listObj runtime.Object) func(reflect.Value) {
	if u, ok := listObj.(*unstructured.UnstructuredList); ok {
		if gvk := u.GroupVersionKind(); !gvk.Empty() {
			kind := gvk.GroupVersion().WithKind(trimList(gvk.Kind))
			return func(slot reflect.Value) {
				obj := unstructured.Unstructured{}
				obj.SetGroupVersionKind(kind)
				slot.Set(reflect.ValueOf(obj))
			}
		}
	}
	return func(slot reflect.Value) { slot.SetZero() }
}

func trimList(kind string) string {
	if len(kind) > 4 && kind[len(kind)-4:] == "List" {
		return kind[:len(kind)-4]
	}
	return kind
}

// listReadError maps an etcd read error to upstream's API errors.
func (s *Store) listReadError(ctx context.Context, err error, withRev int64, continued bool, continueKey, keyPrefix string) error {
	switch {
	case errors.Is(err, rpctypes.ErrFutureRev):
		cur, _ := s.GetCurrentResourceVersion(ctx)
		return storage.NewTooLargeResourceVersionError(uint64(withRev), cur, 0)
	case errors.Is(err, rpctypes.ErrCompacted):
		if !continued {
			return apierrors.NewResourceExpired(expiredList)
		}
		token, tokErr := storage.EncodeContinue(continueKey, keyPrefix, -1)
		if tokErr != nil {
			return apierrors.NewResourceExpired(continueExpired)
		}
		se := apierrors.NewResourceExpired(inconsistentContinue)
		se.ErrStatus.ListMeta.Continue = token
		return se
	}
	return err
}

// maxCorruptErrors caps the corrupt objects a list reports.
const maxCorruptErrors = 100

// listErrors decides what a list does with an object it cannot read: fail
// at once, or (AggregateCorruptErrors) collect corrupt objects and report
// them together after the list, as upstream's unsafe-deletion mode does.
type listErrors struct {
	enabled bool
	gr      schema.GroupResource
	causes  []metav1.StatusCause
	errs    []error
}

func (s *Store) newListErrors() *listErrors {
	return &listErrors{enabled: s.aggregate, gr: s.groupResource}
}

// add records err for key; a non-nil result aborts the list.
func (l *listErrors) add(key string, err error) error {
	if !l.enabled {
		return err
	}
	if !isCorrupt(err) {
		// An unexpected error aborts; report it with what was collected.
		if len(l.causes) == 0 {
			return err
		}
		l.causes = append(l.causes, metav1.StatusCause{Type: metav1.CauseTypeUnexpectedServerResponse, Message: err.Error()})
		return l.status()
	}
	l.errs = append(l.errs, storage.NewCorruptObjError(key, err))
	l.causes = append(l.causes, metav1.StatusCause{Type: metav1.CauseTypeUnexpectedServerResponse, Message: l.errs[len(l.errs)-1].Error(), Field: key})
	if len(l.errs) >= maxCorruptErrors {
		l.causes = append(l.causes, metav1.StatusCause{Type: metav1.CauseTypeTooMany, Message: "too many errors, the list is truncated"})
		return l.status()
	}
	return nil
}

func (l *listErrors) aggregate() error {
	if len(l.errs) == 0 {
		return nil
	}
	return l.status()
}

func (l *listErrors) status() error {
	msg := fmt.Sprintf("failed to read one or more %s from the storage: %v", l.gr.String(), l.errs[0])
	if n := len(l.errs) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusInternalServerError,
		Reason:  metav1.StatusReasonStoreReadError,
		Message: msg,
		Details: &metav1.StatusDetails{Group: l.gr.Group, Kind: l.gr.Resource, Name: "list", Causes: l.causes},
	}}
}

// CorruptObjectError marks a stored value that cannot be transformed or
// decoded: a candidate for unsafe deletion rather than a transient failure.
type CorruptObjectError struct{ Err error }

func (e *CorruptObjectError) Error() string { return "corrupt object: " + e.Err.Error() }
func (e *CorruptObjectError) Unwrap() error { return e.Err }

// MarkTransformErrorsCorrupt makes every read failure of t a
// CorruptObjectError, so lists aggregate them (upstream does this for all
// transformers when unsafe deletion of corrupt objects is on).
func MarkTransformErrorsCorrupt(t value.Transformer) value.Transformer { return corruptMarking{t} }

type corruptMarking struct{ value.Transformer }

func (c corruptMarking) TransformFromStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	out, stale, err := c.Transformer.TransformFromStorage(ctx, data, dataCtx)
	if err != nil {
		err = &CorruptObjectError{Err: err}
	}
	return out, stale, err
}

func isCorrupt(err error) bool {
	var ce *CorruptObjectError
	return errors.As(err, &ce)
}
