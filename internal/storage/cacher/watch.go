package cacher

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
)

// Watch implements storage.Interface; every watch is served from the
// cache, as upstream's Cacher.Watch:
//
//   - RV "" or "0" (sendInitialEvents unset): the current state as ADDED
//     events, then the changes;
//   - sendInitialEvents=true: the state at (at least) the requested
//     revision, etcd's current one for RV "", then, with
//     allowWatchBookmarks, a bookmark annotated k8s.io/initial-events-end
//     (the WatchList protocol); sendInitialEvents=false with RV "0": the
//     changes from the cache's revision;
//   - RV N: the changes after N still in the history, else one ERROR event
//     410 "too old resource version: N (M)".
//
// Until the cache has listed the resource, a watch waits for it. Errors
// after the options are validated are delivered as one ERROR event.
func (c *Cacher) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	key, err := storage.PrepareKey(c.prefix, key, opts.Recursive)
	if err != nil {
		return nil, err
	}
	rv, err := c.versioner.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	if err := c.WaitReady(ctx); err != nil {
		return nil, apierrors.NewTooManyRequests(fmt.Sprintf("storage is (re)initializing: %v", err), 1)
	}
	pred := opts.Predicate
	sendInitial := opts.SendInitialEvents != nil && *opts.SendInitialEvents
	watchList := sendInitial && pred.AllowWatchBookmarks

	// The revision the cache must reach first.
	required := rv
	if opts.ResourceVersion == "" && opts.SendInitialEvents != nil {
		if required, err = c.store.GetCurrentResourceVersion(ctx); err != nil {
			return newErrWatcher(err), nil
		}
	}
	// Without progress notifications the cache can prove that it has
	// reached a revision only by being there already (a quiet etcd just
	// restarted answers none: see the reflector): a watch-list it is
	// behind for is refused, and the client lists instead.
	if watchList && !c.progressSupported() {
		c.mu.RLock()
		have := c.rv
		c.mu.RUnlock()
		if have < required {
			return newErrWatcher(fmt.Errorf("a watch stream was requested by the client but the required storage feature %s is disabled", "RequestWatchProgress")), nil
		}
	}
	if sendInitial {
		if err := c.waitFresh(ctx, required); err != nil {
			return newErrWatcher(err), nil
		}
	}

	w := &watcher{
		c:         c,
		ctx:       ctx,
		key:       key,
		pred:      pred,
		bookmarks: pred.AllowWatchBookmarks,
		stopped:   make(chan struct{}),
		evicted:   make(chan struct{}),
	}
	w.deadline, _ = ctx.Deadline()
	w.scope = scope{key: key}
	if pred.Field != nil {
		w.scope.namespace, _ = pred.Field.RequiresExactMatch("metadata.namespace")
		w.scope.name, _ = pred.Field.RequiresExactMatch("metadata.name")
		if f := c.cfg.TriggerField; f != "" {
			w.trigger, w.hasTrigger = pred.Field.RequiresExactMatch(f)
		}
	}

	var init initial
	c.mu.RLock()
	size := c.hist.watchChanSize(c.cfg.TriggerField != "", w.hasTrigger)
	// As upstream's cacheWatcher, whose input and result channels both
	// have size: a direct watcher has only result.
	w.result = make(chan watch.Event, 2*size)
	switch {
	case sendInitial || (opts.SendInitialEvents == nil && rv == 0):
		state := c.tree
		init.state = &state
		w.startRV = c.rv
		if watchList {
			init.bookmark = c.rv
		}
	case rv == 0: // sendInitialEvents=false: from now on (etcd's now for RV "")
		w.startRV = max(c.rv, required)
	default:
		events, err := c.hist.since(rv)
		if err != nil {
			c.mu.RUnlock()
			return newErrWatcher(err), nil
		}
		init.events, init.from = events, rv
		w.startRV = max(rv, c.rv)
	}
	c.watchersMu.Lock()
	select {
	case <-c.done:
		// Run has returned: it will not stop this watcher.
		c.watchersMu.Unlock()
		c.mu.RUnlock()
		return newErrWatcher(apierrors.NewTooManyRequests("storage is (re)initializing: "+errStopped.Error(), 1)), nil
	default:
	}
	// Without initial events the watcher is direct from the start;
	// otherwise its goroutine sends them first.
	w.direct = init.state == nil && len(init.events) == 0 && init.bookmark == 0
	if !w.direct {
		w.input = make(chan *event, size)
		c.watcherWG.Add(1)
	}
	c.reg.add(w)
	if w.bookmarks {
		if next, ok := w.nextBookmark(time.Now()); ok {
			c.reg.bookmarks.add(w, next)
		}
	}
	c.m.watchers.Set(float64(c.reg.count))
	c.watchersMu.Unlock()
	c.mu.RUnlock()

	stop := context.AfterFunc(ctx, w.Stop)
	w.mu.Lock()
	w.ctxStop = stop
	w.mu.Unlock()
	if !w.direct {
		go w.run(ctx, init)
	}
	return w, nil
}

// progressSupported reports whether etcd answers progress requests, so that
// the cache can prove it has caught up with etcd's current revision (for
// consistent reads and watch-lists): known once a progress notification
// arrived; assumed until the reflector has asked often enough in vain.
// Each such read still waits for the proof, and goes to etcd without it.
func (c *Cacher) progressSupported() bool {
	return c.progressSeen.Load() || !c.progressGaveUp.Load()
}
