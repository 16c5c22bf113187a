package cacher

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Get implements storage.Interface. RV "" (a consistent read) goes to
// etcd, as everything does until the cache is ready; RV "0" or N is served
// from the cache once it has reached N. If it has not within 3 s, etcd
// serves a revision it has, and a newer one is upstream's "Too large
// resource version". The object is a copy the caller owns.
func (c *Cacher) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	if opts.ResourceVersion == "" || !c.Ready() {
		return c.store.Get(ctx, key, opts, out)
	}
	rv, err := c.versioner.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return err
	}
	prepared, err := storage.PrepareKey(c.prefix, key, false)
	if err != nil {
		return err
	}
	outVal, err := conversion.EnforcePtr(out)
	if err != nil {
		return err
	}
	if err := c.waitFresh(ctx, rv); err != nil {
		if storage.IsTooLargeResourceVersion(err) && c.etcdHas(ctx, rv) {
			return c.store.Get(ctx, key, opts, out)
		}
		return err
	}
	c.mu.RLock()
	e, cur := c.tree.get(prepared), c.rv
	c.mu.RUnlock()
	if e == nil {
		if opts.IgnoreNotFound {
			return runtime.SetZeroValue(out)
		}
		return storage.NewKeyNotFoundError(prepared, int64(cur))
	}
	outVal.Set(reflect.ValueOf(e.obj.GetObject()).Elem())
	return nil
}

// GetList implements storage.Interface with upstream's rules for what
// the cache serves (CacheDelegator, delegator.ShouldDelegateList):
//
//   - RV "0" and NotOlderThan N: the cache, once it has reached N; RV "0"
//     ignores the limit;
//   - RV "" (consistent): the cache once etcd's progress notifications
//     have proven that it can catch up with etcd's current revision, else
//     etcd; if it does not catch up within 3 s, etcd;
//   - Exact N, continue tokens and (legacy) N with a limit: the cache's
//     snapshot at N when it still has one, or will have (N is newer than
//     the cache), else etcd.
//
// A read that waits for the cache to reach N waits 3 s at most; then, where
// upstream answers 504 "Too large resource version", etcd serves it if
// etcd has N (a continue token's revision always exists in etcd: the
// first page may have come from etcd, or from another server). An N etcd
// has not reached is still that 504. Until the cache is ready, and while
// it is over its memory limits, lists go to etcd. Items served from the
// cache share memory with it: they must not be changed.
func (c *Cacher) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	res, err := c.list(ctx, key, opts)
	if errors.Is(err, errDelegate) {
		return c.store.GetList(ctx, key, opts, listObj)
	}
	if err != nil {
		return err
	}
	listPtr, err := meta.GetItemsPtr(listObj)
	if err != nil {
		return err
	}
	listVal, err := conversion.EnforcePtr(listPtr)
	if err != nil {
		return err
	}
	if listVal.Kind() != reflect.Slice {
		return fmt.Errorf("need a pointer to slice, got %v", listVal.Kind())
	}
	items := reflect.MakeSlice(listVal.Type(), len(res.elems), len(res.elems))
	for i, e := range res.elems {
		items.Index(i).Set(reflect.ValueOf(e.obj.Object()).Elem())
	}
	listVal.Set(items)
	return c.versioner.UpdateList(listObj, res.rv, res.cont, res.remaining)
}

// ListObjects is GetList for streaming encoders: the same rules and
// results, as the cache's shared objects, which keep their serializations,
// so that an encoder can stream the list item by item. A list served by
// etcd is wrapped too (its objects are fresh, with nothing cached). Items
// must not be changed.
func (c *Cacher) ListObjects(ctx context.Context, key string, opts storage.ListOptions) (*cacheable.List, error) {
	res, err := c.list(ctx, key, opts)
	if errors.Is(err, errDelegate) {
		return c.listFromStore(ctx, key, opts)
	}
	if err != nil {
		return nil, err
	}
	out := &cacheable.List{Items: make([]*cacheable.Object, len(res.elems)), ResourceVersion: res.rv, Continue: res.cont, RemainingItemCount: res.remaining}
	for i, e := range res.elems {
		out.Items[i] = e.obj
	}
	return out, nil
}

func (c *Cacher) listFromStore(ctx context.Context, key string, opts storage.ListOptions) (*cacheable.List, error) {
	listObj := c.cfg.NewListFunc()
	if err := c.store.GetList(ctx, key, opts, listObj); err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(listObj)
	if err != nil {
		return nil, err
	}
	lm, err := meta.ListAccessor(listObj)
	if err != nil {
		return nil, err
	}
	rv, err := c.versioner.ParseResourceVersion(lm.GetResourceVersion())
	if err != nil {
		return nil, err
	}
	out := &cacheable.List{Items: make([]*cacheable.Object, len(items)), ResourceVersion: rv, Continue: lm.GetContinue(), RemainingItemCount: lm.GetRemainingItemCount()}
	for i, item := range items {
		if out.Items[i], err = cacheable.New(item); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// errDelegate: the list is for etcd.
var errDelegate = errors.New("delegate to etcd")

// listResult is a list served from the cache.
type listResult struct {
	elems     []*element
	rv        uint64
	cont      string
	remaining *int64
}

// readMode is where and at which revision a list is read.
type readMode int

const (
	readEtcd       readMode = iota
	readExact               // the snapshot at rv
	readLatest              // the cache, once at rv or later
	readConsistent          // the cache, once at etcd's current revision
)

// plan decides how a list is served, as upstream's ShouldDelegateList.
func (c *Cacher) plan(opts storage.ListOptions) (readMode, uint64, error) {
	rv, err := c.versioner.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return readEtcd, 0, err
	}
	switch opts.ResourceVersionMatch {
	case metav1.ResourceVersionMatchExact:
		return c.planExact(rv, opts.Recursive), rv, nil
	case metav1.ResourceVersionMatchNotOlderThan:
		return readLatest, rv, nil
	case "":
		if opts.Predicate.Continue != "" {
			_, continueRV, err := storage.DecodeContinue(opts.Predicate.Continue, c.prefix)
			if err != nil {
				return readEtcd, 0, apierrors.NewBadRequest(fmt.Sprintf("invalid continue token: %v", err))
			}
			if continueRV > 0 {
				return c.planExact(uint64(continueRV), opts.Recursive), uint64(continueRV), nil
			}
			return c.planConsistent(), 0, nil
		}
		if opts.Predicate.Limit > 0 && opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
			return c.planExact(rv, opts.Recursive), rv, nil
		}
		if opts.ResourceVersion == "" {
			return c.planConsistent(), 0, nil
		}
		return readLatest, rv, nil
	}
	return readEtcd, 0, nil
}

func (c *Cacher) planExact(rv uint64, recursive bool) readMode {
	if !recursive {
		return readEtcd
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if rv > c.rv {
		// A future revision: the cache can wait for it if it can prove
		// freshness.
		if c.progressSupported() {
			return readExact
		}
		return readEtcd
	}
	if _, ok := c.snaps.at(rv); ok {
		return readExact
	}
	return readEtcd
}

// planConsistent serves a consistent read from the cache, which must
// first reach etcd's current revision (listFromCache): without progress
// notifications it can only when it is there already.
func (c *Cacher) planConsistent() readMode {
	return readConsistent
}

// fillWait bounds how long a whole list waits for a filling cache.
const fillWait = 5 * time.Second

// list serves a list from the cache, or returns errDelegate.
func (c *Cacher) list(ctx context.Context, key string, opts storage.ListOptions) (*listResult, error) {
	if _, _, err := storage.ValidateListOptions(c.prefix, c.versioner, opts); err != nil {
		return nil, err
	}
	prepared, err := storage.PrepareKey(c.prefix, key, opts.Recursive)
	if err != nil {
		return nil, err
	}
	mode, rv, err := c.plan(opts)
	if err != nil {
		return nil, err
	}
	if mode != readEtcd && opts.Predicate.Limit == 0 && !c.Ready() && c.started.Load() {
		// A whole list while the cache fills (a start on many objects):
		// the fill is reading these same objects, and waiting for it costs
		// less than reading them twice (upstream answers 429 and its
		// clients retry). Past fillWait, etcd answers.
		wctx, cancel := context.WithTimeout(ctx, fillWait)
		_ = c.WaitReady(wctx)
		cancel()
	}
	// The budget is checked here too: it may be shared, and another
	// resource's cache may have crossed it.
	if mode == readEtcd || !c.Ready() || c.checkBudget() {
		c.m.listFromEtcd()
		return nil, errDelegate
	}
	res, err := c.listFromCache(ctx, key, prepared, opts, mode, rv)
	if err != nil {
		switch {
		case apierrors.IsResourceExpired(err):
			// The snapshot went away meanwhile.
			c.m.listFromEtcd()
			return nil, errDelegate
		case mode == readConsistent && storage.IsTooLargeResourceVersion(err):
			c.m.consistentRead(true, true)
			c.m.listFromEtcd()
			return nil, errDelegate
		case mode == readConsistent:
			c.m.consistentRead(false, false)
		case storage.IsTooLargeResourceVersion(err) && c.etcdHas(ctx, rv):
			// The cache did not reach in time a revision etcd has.
			c.m.listFromEtcd()
			return nil, errDelegate
		}
		return nil, err
	}
	if mode == readConsistent {
		c.m.consistentRead(true, false)
	}
	return res, nil
}

// etcdHas reports whether etcd has reached revision rv. A read at rv that
// the cache could not serve in time (it had not heard of rv: etcd's
// progress notifications were late, or its watch is failing) is then
// etcd's to serve.
func (c *Cacher) etcdHas(ctx context.Context, rv uint64) bool {
	cur, err := c.store.GetCurrentResourceVersion(ctx)
	return err == nil && rv <= cur
}

// listFromCache reads the list from a snapshot. key is the caller's key
// (continue tokens are relative to it), prepared the validated one.
func (c *Cacher) listFromCache(ctx context.Context, key, prepared string, opts storage.ListOptions, mode readMode, rv uint64) (*listResult, error) {
	var continueKey string
	if opts.Predicate.Continue != "" {
		var err error
		if continueKey, _, err = storage.DecodeContinue(opts.Predicate.Continue, prepared); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid continue token: %v", err))
		}
	}
	if mode == readConsistent {
		cur, err := c.store.GetCurrentResourceVersion(ctx)
		if err != nil {
			return nil, err
		}
		rv = cur
		if !c.progressSupported() {
			c.mu.RLock()
			have := c.rv
			c.mu.RUnlock()
			if have < cur {
				return nil, storage.NewTooLargeResourceVersionError(cur, have, tooLargeRetrySeconds)
			}
		}
	}
	if err := c.waitFresh(ctx, rv); err != nil {
		return nil, err
	}

	var (
		t      tree
		listRV uint64
		byIdx  []*element
	)
	from, to, index := c.narrow(opts.Predicate, prepared)
	if continueKey > from {
		from = continueKey
	}
	c.mu.RLock()
	if mode == readExact {
		var ok bool
		if t, ok = c.snaps.at(rv); !ok {
			c.mu.RUnlock()
			return nil, apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d", rv))
		}
		listRV = rv
	} else {
		t, listRV = c.tree, c.rv
		if opts.Recursive && continueKey == "" && index == "" {
			byIdx, index = c.indexLookupLocked(opts.Predicate)
		}
	}
	c.mu.RUnlock()

	res := &listResult{rv: listRV}
	pred := opts.Predicate
	if !opts.Recursive {
		if e := t.get(prepared); e != nil && matches(&pred, e.labels, e.fields) {
			res.elems = []*element{e}
		}
		c.m.listFromCache(index, len(res.elems), len(res.elems))
		return res, nil
	}

	limit := opts.Predicate.Limit
	if limit <= 0 || opts.ResourceVersion == "0" {
		limit = 0 // as upstream's computeListLimit: RV "0" ignores the limit
	}
	var (
		candidates int
		fetched    int
		lastKey    string
		hasMore    bool
	)
	visit := func(e *element) bool {
		fetched++
		if limit > 0 && int64(len(res.elems)) >= limit {
			hasMore = true
			return false
		}
		if matches(&pred, e.labels, e.fields) {
			res.elems = append(res.elems, e)
			lastKey = e.key
		}
		return true
	}
	if byIdx != nil {
		inRange := byIdx[:0]
		for _, e := range byIdx {
			if e.key >= from && (to == "" || e.key < to) {
				inRange = append(inRange, e)
			}
		}
		candidates = len(inRange)
		for _, e := range inRange {
			if !visit(e) {
				break
			}
		}
	} else {
		candidates = t.countRange(from, to)
		if pred.Empty() && limit == 0 {
			res.elems = make([]*element, 0, candidates)
		}
		t.ascend(from, to, visit)
	}
	cont, remaining, err := storage.PrepareContinueToken(lastKey, key, int64(listRV), int64(candidates), hasMore, opts)
	if err != nil {
		return nil, err
	}
	res.cont, res.remaining = cont, remaining
	c.m.listFromCache(index, fetched, len(res.elems))
	if res.elems == nil {
		res.elems = []*element{}
	}
	return res, nil
}

// narrow confines a list under prepared to the keys its field selector
// allows, when the keys are laid out by the default KeyFunc: a required
// metadata.namespace is a key prefix, and with metadata.name (or a name
// alone, for a cluster-scoped resource) one key. These are indexes that
// cost no memory. It returns the range [from, to) (to "" is unbounded) and
// the index used, if any.
func (c *Cacher) narrow(pred storage.SelectionPredicate, prepared string) (from, to, index string) {
	from, to = prepared, prefixEnd(prepared)
	if !c.cfg.defaultKeys || pred.Field == nil {
		return from, to, ""
	}
	base := strings.TrimSuffix(c.prefix, "/") + "/"
	ns, hasNS := pred.Field.RequiresExactMatch("metadata.namespace")
	name, hasName := pred.Field.RequiresExactMatch("metadata.name")
	var lo, hi string
	switch {
	case !c.cfg.ClusterScoped && hasNS && hasName:
		lo, hi, index = base+ns+"/"+name, base+ns+"/"+name+"\x00", storage.FieldIndex("metadata.name")
	case !c.cfg.ClusterScoped && hasNS:
		lo, hi, index = base+ns+"/", prefixEnd(base+ns+"/"), storage.FieldIndex("metadata.namespace")
	case c.cfg.ClusterScoped && hasName:
		lo, hi, index = base+name, base+name+"\x00", storage.FieldIndex("metadata.name")
	default:
		return from, to, ""
	}
	from = max(from, lo)
	if to == "" || hi < to {
		to = hi
	}
	if to <= from {
		to = from // empty
	}
	return from, to, index
}

// indexLookupLocked returns, sorted by key, the elements of the index the
// predicate's field selector pins to one value, if any.
// Caller holds c.mu.
func (c *Cacher) indexLookupLocked(pred storage.SelectionPredicate) ([]*element, string) {
	if pred.Field == nil || len(c.indexes) == 0 {
		return nil, ""
	}
	for _, field := range c.cfg.IndexedFields {
		v, ok := pred.Field.RequiresExactMatch(field)
		if !ok {
			continue
		}
		byKey := c.indexes[field][v]
		out := make([]*element, 0, len(byKey))
		for _, e := range byKey {
			out = append(out, e)
		}
		slices.SortFunc(out, func(a, b *element) int { return strings.Compare(a.key, b.key) })
		return out, storage.FieldIndex(field)
	}
	return nil, ""
}
