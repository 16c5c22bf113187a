package cacher

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// The reflector keeps the cache in sync with etcd: it lists the resource,
// then watches it from the list's revision with progress notifications.
// A watch that ends is resumed from the cache's revision; one that cannot
// be resumed (410 Gone: etcd compacted past the cache) leads to a relist
// whose difference with the cache is sent to the watchers.

// errGone ends a watch that etcd can no longer resume.
type errGone struct{ err error }

func (e errGone) Error() string { return e.err.Error() }
func (e errGone) Unwrap() error { return e.err }

// reflect runs list-and-watch until ctx ends, retrying after a second
// when it fails (upstream's wait.Until period).
func (c *Cacher) reflect(ctx context.Context) {
	for ctx.Err() == nil {
		err := c.listAndWatch(ctx)
		if ctx.Err() != nil {
			return
		}
		c.m.initErrors.Inc()
		c.log.Error("watch cache: list and watch failed; relisting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (c *Cacher) listAndWatch(ctx context.Context) error {
	start := time.Now()
	elems, listRV, err := c.listAll(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	first := !c.synced
	if err := c.replace(ctx, elems, listRV); err != nil {
		return err
	}
	if first {
		c.m.initializations.Inc()
		c.m.initDuration.Observe(time.Since(start).Seconds())
		c.log.Debug("watch cache initialized", "objects", len(elems), "rv", listRV, "duration", time.Since(start))
	} else {
		c.m.relists.Inc()
		c.log.Info("watch cache relisted", "objects", len(elems), "rv", listRV)
	}
	return c.watch(ctx)
}

// listAll reads the whole resource, in pages of listPageSize (upstream's
// storageWatchListPageSize), at one revision, and makes the cache's
// elements of each page before reading the next, packed as any object
// that entered the cache (all but the packLag last ones) unless the cache
// keeps objects decoded: a large resource is never held decoded whole
// (100,000 pods: about 1 GB decoded, a third of that packed), and a small
// one (priority classes, limit ranges: read by admission at every pod
// create) stays decoded, as upstream keeps every object.
func (c *Cacher) listAll(ctx context.Context) ([]*element, uint64, error) {
	var (
		all    []*element
		listRV uint64
		token  string
	)
	for {
		list := c.cfg.NewListFunc()
		opts := storage.ListOptions{Recursive: true, Predicate: storage.Everything}
		opts.Predicate.Limit = listPageSize
		opts.Predicate.Continue = token
		if err := c.store.GetList(ctx, c.prefix, opts, list); err != nil {
			return nil, 0, err
		}
		items, err := meta.ExtractListWithAlloc(list)
		if err != nil {
			return nil, 0, err
		}
		for _, obj := range items {
			e, err := c.newElement(obj)
			if err != nil {
				c.log.Error("skipping object the cache cannot hold", "err", err)
				continue
			}
			c.packs.push(e.obj)
			all = append(all, e)
		}
		c.packs.drain()
		lm, err := meta.ListAccessor(list)
		if err != nil {
			return nil, 0, err
		}
		if listRV == 0 {
			if listRV, err = strconv.ParseUint(lm.GetResourceVersion(), 10, 64); err != nil {
				return nil, 0, fmt.Errorf("list resourceVersion %q: %w", lm.GetResourceVersion(), err)
			}
		}
		if token = lm.GetContinue(); token == "" {
			return all, listRV, nil
		}
	}
}

// watch follows etcd from the cache's revision, resuming watches that end
// (after a pause when they fail), until etcd answers 410 Gone (the caller
// relists) or ctx ends. After failing for maxWatchRetryDuration the cache
// reports not ready until a watch works again.
func (c *Cacher) watch(ctx context.Context) error {
	ctx = c.onOwnStream(ctx)
	if !c.packs.off {
		// The store's events of its own writes come with the bytes their
		// objects are packed into (cacheable.NewEncoded).
		ctx = cacheable.WantEncoded(ctx)
	}
	var failingSince time.Time
	backoff := 100 * time.Millisecond
	for {
		c.mu.RLock()
		rv := c.rv
		c.mu.RUnlock()
		w, err := c.store.Watch(ctx, c.prefix, storage.ListOptions{
			ResourceVersion: strconv.FormatUint(rv, 10),
			Recursive:       true,
			ProgressNotify:  true,
			Predicate:       storage.Everything,
		})
		if err == nil {
			err = c.consume(ctx, w)
			w.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var gone errGone
		if errors.As(err, &gone) {
			return err
		}
		if err == nil {
			// The watch ended cleanly (etcd closed it): resume at once.
			failingSince, backoff = time.Time{}, 100*time.Millisecond
			continue
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		c.log.Warn("watch cache: etcd watch failed; resuming", "err", err, "rv", rv)
		if time.Since(failingSince) > maxWatchRetryDuration {
			c.mu.Lock()
			c.setReadyLocked(false)
			c.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// consume applies the events of one etcd watch. It returns nil when the
// watch ends, errGone when etcd cannot serve its revision any more, and
// other errors for other failures.
func (c *Cacher) consume(ctx context.Context, w watch.Interface) error {
	// Until a first progress notification proves that etcd answers
	// progress requests (so that consistent reads can be served from the
	// cache), ask for one now and then (Config.probing: 40 times 250 ms
	// apart, then every 5 s; consistent reads that find the cache behind
	// etcd go to etcd after the 40th).
	pr := c.cfg.probing
	probe := time.NewTicker(pr.every)
	defer probe.Stop()
	probes := 0
	// A watch that has not failed for a second (or delivered an event)
	// is in sync.
	healthy := false
	markHealthy := func() {
		if !healthy {
			healthy = true
			c.mu.Lock()
			c.setReadyLocked(true)
			c.mu.Unlock()
		}
	}
	settled := time.NewTimer(time.Second)
	defer settled.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-settled.C:
			markHealthy()
		case <-probe.C:
			if c.progressSeen.Load() {
				probe.Stop()
				continue
			}
			if probes == pr.probes {
				// etcd answers a progress request only once every watch
				// of the stream has started: a cache watching from the
				// revision after etcd's current one, on a quiet cluster
				// just restarted, gets no answer until the next write.
				// Meanwhile consistent reads that find the cache behind
				// etcd's revision, and watch-lists, go to etcd; asking
				// goes on, less often, and the first answer brings them
				// back.
				c.progressGaveUp.Store(true)
				c.log.Debug("etcd has not answered progress requests yet: consistent reads behind etcd and watch-lists are served by etcd until it does")
				probe.Reset(pr.retry)
			}
			probes++
			_ = c.store.RequestWatchProgress(ctx)
		case we, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			if we.Type != watch.Error {
				markHealthy()
			}
			switch we.Type {
			case watch.Bookmark:
				rv, err := c.versioner.ObjectResourceVersion(we.Object)
				if err != nil {
					return err
				}
				if err := c.progress(ctx, rv); err != nil {
					return err
				}
			case watch.Error:
				err := apierrors.FromObject(we.Object)
				if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
					return errGone{err}
				}
				if st, ok := we.Object.(*metav1.Status); ok {
					return fmt.Errorf("watch error: %s", st.Message)
				}
				return err
			default:
				if err := c.apply(ctx, we); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					c.log.Error("watch cache: cannot apply event", "type", we.Type, "err", err)
				}
			}
		}
	}
}
