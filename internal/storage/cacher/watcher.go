package cacher

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
)

// watcher is one watch served from the cache. The dispatcher offers it
// events on input; its goroutine (run) sends the initial state, then
// filters the offered events and sends what the client should see on
// result, in order. The dispatcher never waits for it longer than its time
// budget: a watcher that falls that far behind is evicted, and ends with
// an ERROR event (410 Gone) after what it had buffered, so that the client
// relists.
type watcher struct {
	c          *Cacher
	key        string // a prefix ending in "/", or one key
	pred       storage.SelectionPredicate
	scope      scope
	trigger    string
	hasTrigger bool
	bookmarks  bool // the client accepts bookmarks
	deadline   time.Time

	// Set at registration, before run starts; read only by run.
	startRV uint64 // events at or below it are part of the initial state

	id         uint64 // guarded by Cacher.watchersMu
	registered bool   // guarded by Cacher.watchersMu

	// input has room for about a second of events; the dispatcher writes
	// it without blocking (or within its budget), never closes it.
	input chan *event
	// result is the client's channel, of the same size; closed by run.
	result chan watch.Event

	stopOnce  sync.Once
	stopped   chan struct{} // Stop was called: end now
	evictOnce sync.Once
	evicted   chan struct{} // too slow: drain, send the error, end
}

var _ watch.Interface = (*watcher)(nil)

// ResultChan implements watch.Interface.
func (w *watcher) ResultChan() <-chan watch.Event { return w.result }

// Stop implements watch.Interface: the result channel closes soon after;
// events already in it can still be read.
func (w *watcher) Stop() {
	w.stopOnce.Do(func() { close(w.stopped) })
	w.c.forget(w)
}

func (w *watcher) evict() { w.evictOnce.Do(func() { close(w.evicted) }) }

// tryAdd offers e without blocking.
func (w *watcher) tryAdd(e *event) bool {
	select {
	case w.input <- e:
		return true
	default:
		return false
	}
}

// nextBookmark is when w should get its next bookmark: a minute from now,
// or 2 s before its deadline if that is sooner (upstream's
// nextBookmarkTime); false once the deadline is that close.
func (w *watcher) nextBookmark(now time.Time) (time.Time, bool) {
	next := now.Add(bookmarkFrequency)
	if w.deadline.IsZero() {
		return next, true
	}
	if pre := w.deadline.Add(-2 * time.Second); pre.Before(next) {
		next = pre
	}
	if next.Before(now) {
		return time.Time{}, false
	}
	return next, true
}

// initial is what a watcher sends before live events: the state of a
// snapshot (ADDED events), or the buffered events after its revision.
type initial struct {
	state    *tree // nil: use events
	events   []*event
	from     uint64 // events are those after this revision
	bookmark uint64 // >0: end with the initial-events-end bookmark at this revision
}

// run is the watcher's goroutine; it ends when the client stops, ctx ends,
// the cacher stops or the watcher is evicted.
func (w *watcher) run(ctx context.Context, init initial) {
	defer w.c.watcherWG.Done()
	defer close(w.result)
	defer w.c.forget(w)

	n, ok := w.sendInitial(ctx, init)
	if n > 0 {
		w.c.m.initEvents.Add(float64(n))
	}
	if !ok {
		return
	}
	if init.bookmark > 0 {
		obj, err := w.bookmarkObject(init.bookmark)
		if err == nil {
			err = storage.AnnotateInitialEventsEndBookmark(obj)
		}
		if err != nil {
			w.send(ctx, errorEvent(err))
			return
		}
		if !w.send(ctx, watch.Event{Type: watch.Bookmark, Object: obj}) {
			return
		}
	}
	for {
		select {
		case e := <-w.input:
			if !w.handle(ctx, e, w.startRV) {
				return
			}
		case <-w.evicted:
			w.drain(ctx)
			return
		case <-w.stopped:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (w *watcher) sendInitial(ctx context.Context, init initial) (int, bool) {
	n := 0
	if init.state == nil {
		for _, e := range init.events {
			if !w.handle(ctx, e, init.from) {
				return n, false
			}
			n++
		}
		return n, true
	}
	ok := true
	visit := func(e *element) bool {
		if !matches(&w.pred, e.labels, e.fields) {
			return true
		}
		n++
		ok = w.send(ctx, watch.Event{Type: watch.Added, Object: e.obj})
		return ok
	}
	if strings.HasSuffix(w.key, "/") {
		init.state.ascend(w.key, prefixEnd(w.key), visit)
	} else if e := init.state.get(w.key); e != nil {
		visit(e)
	}
	return n, ok
}

// drain sends what an evicted watcher had buffered, then the error that
// tells the client to relist.
func (w *watcher) drain(ctx context.Context) {
	for {
		select {
		case e := <-w.input:
			if !w.handle(ctx, e, w.startRV) {
				return
			}
		default:
			w.send(ctx, watch.Event{Type: watch.Error, Object: &metav1.Status{
				Status:  metav1.StatusFailure,
				Code:    http.StatusGone,
				Reason:  metav1.StatusReasonExpired,
				Message: fmt.Sprintf("watch of %s closed: the client did not keep up with the events; relist", w.c.cfg.GroupResource),
			}})
			return
		}
	}
}

// handle sends what e means for this watcher, unless e is at or below
// after (already part of what the watcher sent); false ends the watcher.
func (w *watcher) handle(ctx context.Context, e *event, after uint64) bool {
	if e.typ == watch.Bookmark {
		if !w.bookmarks || e.rv <= after {
			return true
		}
		obj, err := w.bookmarkObject(e.rv)
		if err != nil {
			return true
		}
		return w.send(ctx, watch.Event{Type: watch.Bookmark, Object: obj})
	}
	if e.rv <= after {
		return true
	}
	out, ok := w.convert(e)
	if !ok {
		return true
	}
	if !w.send(ctx, out) {
		return false
	}
	w.c.m.dispatchTotal.Observe(time.Since(e.recordTime).Seconds())
	return true
}

// convert turns e into the event this watcher sees, as upstream's
// convertToWatchEvent: an object that starts (stops) matching the
// selector is ADDED (DELETED, with the previous object at the event's
// revision).
func (w *watcher) convert(e *event) (watch.Event, bool) {
	curIn := e.cur != nil && w.matches(e.key, e.cur)
	prevIn := e.prev != nil && w.matches(e.key, e.prev)
	switch {
	case curIn && !prevIn:
		return watch.Event{Type: watch.Added, Object: e.cur.obj}, true
	case curIn:
		return watch.Event{Type: watch.Modified, Object: e.cur.obj}, true
	case prevIn:
		return watch.Event{Type: watch.Deleted, Object: e.movedOut(w.c.versioner)}, true
	}
	return watch.Event{}, false
}

func (w *watcher) matches(key string, e *element) bool {
	return hasPathPrefix(key, w.key) && matches(&w.pred, e.labels, e.fields)
}

func (w *watcher) bookmarkObject(rv uint64) (runtime.Object, error) {
	obj := w.c.cfg.NewFunc()
	if err := w.c.versioner.UpdateObject(obj, rv); err != nil {
		return nil, err
	}
	return obj, nil
}

// send delivers ev unless the client stopped; it never gives up on a
// client that is merely slow (the dispatcher does that, by eviction).
func (w *watcher) send(ctx context.Context, ev watch.Event) bool {
	select {
	case <-w.stopped:
		return false
	case <-ctx.Done():
		return false
	default:
	}
	select {
	case w.result <- ev:
		return true
	case <-w.stopped:
		return false
	case <-ctx.Done():
		return false
	}
}

// hasPathPrefix reports whether s is prefix or under it at a path segment
// boundary (upstream's key.HasPathPrefix).
func hasPathPrefix(s, prefix string) bool {
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	return len(s) == len(prefix) || strings.HasSuffix(prefix, "/") || s[len(prefix)] == '/'
}

// prefixEnd is the first key after every key starting with prefix.
func prefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "" // no upper bound
}

// errorEvent is err as an ERROR event, as upstream's errWatcher builds it.
func errorEvent(err error) watch.Event {
	var obj runtime.Object
	switch e := err.(type) {
	case runtime.Object:
		obj = e
	case interface{ Status() metav1.Status }:
		st := e.Status()
		obj = &st
	default:
		obj = &metav1.Status{
			Status:  metav1.StatusFailure,
			Message: err.Error(),
			Reason:  metav1.StatusReasonInternalError,
			Code:    http.StatusInternalServerError,
		}
	}
	return watch.Event{Type: watch.Error, Object: obj}
}

// errWatcher is a watch that delivers one ERROR event and ends.
type errWatcher struct{ result chan watch.Event }

func newErrWatcher(err error) *errWatcher {
	w := &errWatcher{result: make(chan watch.Event, 1)}
	w.result <- errorEvent(err)
	close(w.result)
	return w
}

func (w *errWatcher) ResultChan() <-chan watch.Event { return w.result }
func (w *errWatcher) Stop()                          {}
