package cacher

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// newElement wraps obj (owned by the caller until now) for the cache. It
// computes what the cache keeps about the object once: key, attributes
// and encoded size.
func (c *Cacher) newElement(obj runtime.Object) (*element, error) {
	inner := obj
	if co, ok := obj.(*cacheable.Object); ok {
		inner = co.Object() // made by cacheable.NewEncoded: not packed
	}
	rv, err := c.versioner.ObjectResourceVersion(inner)
	if err != nil {
		return nil, err
	}
	key, err := c.cfg.KeyFunc(inner)
	if err != nil {
		return nil, fmt.Errorf("couldn't compute key: %w", err)
	}
	l, f, err := c.cfg.GetAttrs(inner)
	if err != nil {
		return nil, err
	}
	size, known := int64(0), false
	if co, ok := obj.(*cacheable.Object); ok && c.cfg.defaultSize {
		size, known = co.EncodedSize() // what defaultObjectSize computes
	}
	if !known {
		size = c.cfg.ObjectSize(inner)
	}
	co, err := cacheable.NewCounted(obj, c.addBytes)
	if err != nil {
		return nil, err
	}
	e := &element{key: key, obj: co, labels: l, fields: c.names.compact(f), rv: rv, size: size}
	// Share with the key's current element the attributes that did not
	// change (most updates): the history then holds one copy of them.
	// Only the reflector goroutine, which calls this, changes c.tree: it
	// reads it without the lock.
	if prev := c.tree.get(key); prev != nil {
		if maps.Equal(prev.labels, e.labels) {
			e.labels = prev.labels
		}
		if prev.fields.names == e.fields.names && slices.Equal(prev.fields.values, e.fields.values) {
			e.fields.values = prev.fields.values
		}
	}
	return e, nil
}

// addBytes counts n more bytes held by the cache.
func (c *Cacher) addBytes(n int64) {
	c.bytes.Add(n)
	c.cfg.Budget.add(n)
}

// setRVLocked moves the cache's revision forward and wakes the readers
// waiting for it. Caller holds c.mu for writing.
func (c *Cacher) setRVLocked(rv uint64) {
	if rv <= c.rv {
		return
	}
	c.rv = rv
	close(c.rvCh)
	c.rvCh = make(chan struct{})
	c.m.recordResourceVersion(rv)
}

// indexLocked adds (or with remove, removes) e to the field indexes.
// Caller holds c.mu for writing.
func (c *Cacher) indexLocked(e *element, remove bool) {
	for field, byValue := range c.indexes {
		v := e.fields.Get(field)
		keys := byValue[v]
		if remove {
			if keys[e.key] == e {
				delete(keys, e.key)
				if len(keys) == 0 {
					delete(byValue, v)
				}
			}
			continue
		}
		if keys == nil {
			keys = map[string]*element{}
			byValue[v] = keys
		}
		keys[e.key] = e
	}
}

// applyLocked applies a change of one key at ev.rv: cur is the new
// element (nil for a deletion, then deleted is the object to deliver).
// It returns the event to dispatch, nil when there is nothing to tell.
// Caller holds c.mu for writing.
func (c *Cacher) applyLocked(typ watch.EventType, key string, rv uint64, cur *element, deleted *cacheable.Object, now time.Time) *event {
	prev := c.tree.get(key)
	ev := &event{key: key, rv: rv, cur: cur, prev: prev, recordTime: now}
	switch {
	case cur != nil && prev == nil:
		ev.typ = watch.Added
	case cur != nil:
		ev.typ = watch.Modified
	case prev != nil:
		ev.typ = watch.Deleted
		ev.deleted = deleted
	default:
		// A deletion of something the cache never had: nothing to tell.
		return nil
	}
	if prev != nil {
		c.indexLocked(prev, true)
		c.addBytes(-prev.size)
		prev.obj.Retire()
	}
	c.packs.push(deleted)
	if cur != nil {
		c.packs.push(cur.obj)
		c.tree = c.tree.put(cur)
		c.indexLocked(cur, false)
		c.addBytes(cur.size)
	} else {
		c.tree = c.tree.delete(key)
	}
	before, after := c.hist.add(ev)
	c.m.recordCapacity(before, after)
	if c.hist.full() {
		c.snaps.removeBelow(c.hist.oldestRV())
	}
	c.snaps.add(rv, c.tree)
	c.setRVLocked(rv)
	c.m.objects.Set(float64(c.tree.len()))
	return ev
}

// apply applies one event of the store's watch and queues it for the
// watchers.
func (c *Cacher) apply(ctx context.Context, we watch.Event) error {
	now := time.Now()
	c.m.eventsReceived.Inc()
	var (
		ev  *event
		key string
		rv  uint64
	)
	switch we.Type {
	case watch.Added, watch.Modified:
		cur, err := c.newElement(we.Object)
		if err != nil {
			return err
		}
		c.mu.Lock()
		ev = c.applyLocked(we.Type, cur.key, cur.rv, cur, nil, now)
		c.mu.Unlock()
		c.packs.drain()
	case watch.Deleted:
		// The store stamps a deleted object with the deletion revision,
		// which is what watchers get: wrap it as it is.
		var err error
		if rv, err = c.versioner.ObjectResourceVersion(we.Object); err != nil {
			return err
		}
		if key, err = c.cfg.KeyFunc(we.Object); err != nil {
			return fmt.Errorf("couldn't compute key: %w", err)
		}
		deleted, err := cacheable.New(we.Object)
		if err != nil {
			return err
		}
		c.mu.Lock()
		ev = c.applyLocked(watch.Deleted, key, rv, nil, deleted, now)
		if ev == nil {
			c.setRVLocked(rv)
		}
		c.mu.Unlock()
		c.packs.drain()
	default:
		return fmt.Errorf("unexpected watch event type %q", we.Type)
	}
	c.checkBudget()
	if ev == nil {
		return nil
	}
	return c.enqueue(ctx, ev)
}

// enqueue hands ev to the dispatcher.
func (c *Cacher) enqueue(ctx context.Context, ev *event) error {
	select {
	case c.incoming <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// progress records that etcd has sent every event up to rv.
func (c *Cacher) progress(ctx context.Context, rv uint64) error {
	c.progressSeen.Store(true)
	c.mu.Lock()
	c.setRVLocked(rv)
	rv = c.rv
	c.mu.Unlock()
	return c.enqueue(ctx, &event{typ: watch.Bookmark, rv: rv, bookmarkAll: c.bookmarkAll.Swap(false)})
}

// replace installs a fresh list of the resource at listRV. The first one
// makes the cache ready. A later one (the watch could not be resumed)
// keeps the watchers: they are sent the difference between what the cache
// had and the list, as events in revision order (deletions at listRV), so
// that they lose nothing and see nothing twice. The history restarts at
// listRV, as upstream's Replace.
func (c *Cacher) replace(ctx context.Context, listed []*element, listRV uint64) error {
	now := time.Now()
	// Only this goroutine (the reflector) changes c.tree: it may read it
	// without the lock.
	old := c.tree
	elems := make([]*element, 0, len(listed))
	var added int64
	for _, e := range listed {
		if prev := old.get(e.key); prev != nil && prev.rv == e.rv {
			e = prev // unchanged: keep the object watchers and lists share
		} else {
			added += e.size
			c.packs.push(e.obj)
		}
		elems = append(elems, e)
	}
	slices.SortFunc(elems, func(a, b *element) int { return strings.Compare(a.key, b.key) })
	elems = slices.CompactFunc(elems, func(a, b *element) bool { return a.key == b.key })
	next := buildTree(elems)

	c.mu.Lock()
	var diff []*event
	if c.synced {
		diff = c.diffLocked(old, next, listRV, now)
	}
	c.tree = next
	for field := range c.indexes {
		c.indexes[field] = map[string]map[string]*element{}
	}
	for _, e := range elems {
		c.indexLocked(e, false)
	}
	c.hist.reset(listRV)
	c.m.objects.Set(float64(next.len()))
	c.snaps.reset(listRV, next)
	c.setRVLocked(listRV)
	c.synced = true
	c.setReadyLocked(true)
	c.mu.Unlock()

	// Forget the objects that left.
	var removed int64
	old.ascend("", "", func(e *element) bool {
		if next.get(e.key) != e {
			removed += e.size
			e.obj.Retire()
		}
		return true
	})
	for _, ev := range diff {
		c.packs.push(ev.deleted)
	}
	c.packs.drain()
	c.addBytes(added - removed)
	c.checkBudget()
	for _, ev := range diff {
		if err := c.enqueue(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// diffLocked returns the events that take a watcher from old to next, in
// revision order. Objects present in both at the same revision are
// unchanged; deletions happen at listRV.
func (c *Cacher) diffLocked(old, next tree, listRV uint64, now time.Time) []*event {
	var diff []*event
	next.ascend("", "", func(e *element) bool {
		prev := old.get(e.key)
		switch {
		case prev == nil:
			diff = append(diff, &event{typ: watch.Added, key: e.key, rv: e.rv, cur: e, recordTime: now})
		case prev != e:
			diff = append(diff, &event{typ: watch.Modified, key: e.key, rv: e.rv, cur: e, prev: prev, recordTime: now})
		}
		return true
	})
	old.ascend("", "", func(prev *element) bool {
		if next.get(prev.key) == nil {
			obj := prev.obj.GetObject()
			if err := c.versioner.UpdateObject(obj, listRV); err != nil {
				return true
			}
			deleted, err := cacheable.New(obj)
			if err != nil {
				return true
			}
			diff = append(diff, &event{typ: watch.Deleted, key: prev.key, rv: listRV, prev: prev, deleted: deleted, recordTime: now})
		}
		return true
	})
	slices.SortStableFunc(diff, func(a, b *event) int { return cmp.Compare(a.rv, b.rv) })
	return diff
}

// waitFresh blocks until the cache has reached rv, for at most 3 s, then
// fails with upstream's "Too large resource version" (504, retry after 1 s).
// While it waits etcd is asked for progress notifications.
func (c *Cacher) waitFresh(ctx context.Context, rv uint64) error {
	if rv == 0 {
		return nil
	}
	c.mu.RLock()
	cur, ch := c.rv, c.rvCh
	c.mu.RUnlock()
	if cur >= rv {
		return nil
	}
	start := time.Now()
	defer func() { c.m.readWait.Observe(time.Since(start).Seconds()) }()
	c.progressWaiters.Add(1)
	defer c.progressWaiters.Add(-1)
	select {
	case c.progressWake <- struct{}{}:
	default:
	}
	timer := time.NewTimer(c.cfg.freshTimeout)
	defer timer.Stop()
	for {
		select {
		case <-ch:
		case <-timer.C:
			c.mu.RLock()
			cur = c.rv
			c.mu.RUnlock()
			if cur >= rv {
				return nil
			}
			return storage.NewTooLargeResourceVersionError(rv, cur, tooLargeRetrySeconds)
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.RLock()
		cur, ch = c.rv, c.rvCh
		c.mu.RUnlock()
		if cur >= rv {
			return nil
		}
	}
}

// requestProgress asks etcd for progress notifications every 100 ms while
// some read waits for the cache to catch up (upstream's
// ConditionalProgressRequester).
func (c *Cacher) requestProgress(ctx context.Context) {
	ctx = c.onOwnStream(ctx) // the stream of the cache's watch
	ticker := time.NewTicker(progressRequestInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.progressWake:
		case <-ticker.C:
		}
		if c.progressWaiters.Load() == 0 {
			continue
		}
		if err := c.store.RequestWatchProgress(ctx); err != nil && ctx.Err() == nil {
			c.log.Debug("requesting watch progress", "err", err)
		}
	}
}

// pollCompaction follows the store's compaction revision: snapshots and
// history at or below it are dropped, so that reads and watches from
// compacted revisions get etcd's answer, 410 Gone.
func (c *Cacher) pollCompaction(ctx context.Context) {
	ticker := time.NewTicker(c.cfg.CompactionPollInterval)
	defer ticker.Stop()
	for {
		if rev := c.store.CompactRevision(); rev > c.compactRev.Load() {
			c.mu.Lock()
			c.snaps.removeBelow(uint64(rev))
			c.hist.trim(uint64(rev))
			c.mu.Unlock()
			c.compactRev.Store(rev)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// checkBudget reports whether the cache holds more than its memory limits
// allow (lists then go to etcd), and says so, once per crossing, in a
// metric and a log line.
func (c *Cacher) checkBudget() bool {
	used := c.bytes.Load()
	c.m.memory.Set(float64(used))
	over := (c.cfg.MaxBytes > 0 && used > c.cfg.MaxBytes) || c.cfg.Budget.over()
	if c.overBudget.Swap(over) == over {
		return over
	}
	if over {
		c.m.overBudget.Set(1)
		c.log.Warn("watch cache is over its memory limit: lists go to etcd, watches are still served from the cache",
			"bytes", used, "limit", c.cfg.MaxBytes, "totalBytes", c.cfg.Budget.usedOrZero(), "totalLimit", c.cfg.Budget.limitOrZero())
		return over
	}
	c.m.overBudget.Set(0)
	c.log.Info("watch cache is back under its memory limit: lists are served from the cache again", "bytes", used)
	return over
}
