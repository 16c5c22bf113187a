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

// watcher is one watch served from the cache. Its events reach the
// client's channel, result, in order, in one of two ways:
//
//   - direct (most watchers, and every one once its initial events are
//     sent): the dispatcher converts each event for the watcher and puts
//     it on result itself; no goroutine of the watcher's runs.
//   - through input, while the watcher's goroutine (run) sends the
//     initial state or the history after its revision on result: the
//     dispatcher queues the live events on input, the goroutine sends
//     them after, then hands result over to the dispatcher (direct).
//
// The dispatcher never waits for a watcher longer than its time budget:
// a watcher that falls that far behind is evicted, and ends with an
// ERROR event (410 Gone) after what it had buffered, so that the client
// relists.
type watcher struct {
	c          *Cacher
	ctx        context.Context // the watch's
	key        string          // a prefix ending in "/", or one key
	pred       storage.SelectionPredicate
	scope      scope
	trigger    string
	hasTrigger bool
	bookmarks  bool // the client accepts bookmarks
	deadline   time.Time

	// Set at registration, before any event is offered.
	startRV uint64 // events at or below it are part of the initial state

	id         uint64 // guarded by Cacher.watchersMu
	registered bool   // guarded by Cacher.watchersMu

	// input has room for about a second of events; the dispatcher writes
	// it without blocking (or within its budget) until the watcher is
	// direct, never closes it.
	input chan *event
	// result is the client's channel, twice input's size. Its owner sends
	// on it and closes it: the goroutine until the watcher is direct,
	// then whoever holds mu and finds closed false.
	result chan watch.Event

	// mu guards the fields below, and the sends on result of a direct
	// watcher.
	mu sync.Mutex
	// direct: the dispatcher delivers on result (see above).
	direct bool
	// closed: a direct watcher's result is closed, or is being closed
	// by the goroutine of its eviction: nothing more is sent.
	closed bool
	// offering: the dispatcher waits, without mu, for room in input: the
	// goroutine must not hand over before that event is in input.
	offering bool

	stopOnce  sync.Once
	stopped   chan struct{} // Stop was called: end now
	ctxStop   func() bool   // unregisters the Stop at the end of ctx; guarded by mu
	evictOnce sync.Once
	evicted   chan struct{} // too slow: drain, send the error, end
}

var _ watch.Interface = (*watcher)(nil)

// ResultChan implements watch.Interface.
func (w *watcher) ResultChan() <-chan watch.Event { return w.result }

// Stop implements watch.Interface: the result channel closes soon after;
// events already in it can still be read. The end of the watch's context
// stops it too.
func (w *watcher) Stop() {
	w.stopOnce.Do(func() {
		close(w.stopped)
		// A dispatcher waiting for room on result gives up (stopped),
		// then releases mu.
		w.mu.Lock()
		if w.direct && !w.closed {
			w.closed = true
			close(w.result)
		}
		stop := w.ctxStop
		w.mu.Unlock()
		if stop != nil {
			stop()
		}
	})
	w.c.forget(w)
}

// evict ends a watcher that could not keep up: what it buffered is still
// delivered, then the error that tells the client to relist.
func (w *watcher) evict() {
	w.evictOnce.Do(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.direct {
			close(w.evicted) // the goroutine drains input and ends
			return
		}
		if w.closed {
			return
		}
		w.closed = true
		w.c.watcherWG.Add(1)
		go func() {
			defer w.c.watcherWG.Done()
			defer close(w.result)
			w.send(w.ctx, w.goneEvent())
		}()
	})
}

// tryAdd offers e without blocking; false when w has no room for it.
func (w *watcher) tryAdd(e *event) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return true
	}
	if !w.direct {
		select {
		case w.input <- e:
			return true
		default:
			return false
		}
	}
	ev, ok := w.eventFor(e, w.startRV)
	if !ok {
		return true
	}
	select {
	case w.result <- ev:
		w.delivered(e)
		return true
	default:
		return false
	}
}

// addWait offers e, waiting for room until expire fires (false) or the
// watcher stops.
func (w *watcher) addWait(e *event, expire <-chan time.Time) bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return true
	}
	if w.direct {
		defer w.mu.Unlock()
		ev, ok := w.eventFor(e, w.startRV)
		if !ok {
			return true
		}
		select {
		case w.result <- ev:
			w.delivered(e)
			return true
		case <-w.stopped:
			return true
		case <-expire:
			return false
		}
	}
	w.offering = true
	w.mu.Unlock()
	added := true
	select {
	case w.input <- e:
	case <-w.stopped:
	case <-expire:
		added = false
	}
	w.mu.Lock()
	w.offering = false
	w.mu.Unlock()
	return added
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

// run is the goroutine of a watcher with initial events: it sends them,
// then what was queued on input meanwhile, and hands result over to the
// dispatcher (direct). It ends earlier when the client stops, ctx ends,
// the cacher stops or the watcher is evicted, closing result.
func (w *watcher) run(ctx context.Context, init initial) {
	defer w.c.watcherWG.Done()
	if w.sendAll(ctx, init) && w.handOver(ctx) {
		return
	}
	close(w.result)
	w.c.forget(w)
}

// sendAll sends the initial events and the end bookmark; false ends the
// watcher.
func (w *watcher) sendAll(ctx context.Context, init initial) bool {
	n, ok := w.sendInitial(ctx, init)
	if n > 0 {
		w.c.m.initEvents.Add(float64(n))
	}
	if !ok {
		return false
	}
	if init.bookmark > 0 {
		obj, err := w.bookmarkObject(init.bookmark)
		if err == nil {
			err = storage.AnnotateInitialEventsEndBookmark(obj)
		}
		if err != nil {
			w.send(ctx, errorEvent(err))
			return false
		}
		if !w.send(ctx, watch.Event{Type: watch.Bookmark, Object: obj}) {
			return false
		}
	}
	return true
}

// handOver sends the events queued on input until it finds input empty,
// with no event on its way, and makes the watcher direct: true. False
// ends the watcher (result is still the goroutine's).
func (w *watcher) handOver(ctx context.Context) bool {
	for {
		w.mu.Lock()
		select {
		case <-w.stopped:
			w.mu.Unlock()
			return false
		case <-w.evicted:
			w.mu.Unlock()
			w.drain(ctx)
			return false
		default:
		}
		if len(w.input) == 0 && !w.offering {
			w.direct = true
			w.mu.Unlock()
			return true
		}
		w.mu.Unlock()
		select {
		case e := <-w.input:
			if !w.handle(ctx, e, w.startRV) {
				return false
			}
		case <-w.evicted:
			w.drain(ctx)
			return false
		case <-w.stopped:
			return false
		case <-ctx.Done():
			return false
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
			w.send(ctx, w.goneEvent())
			return
		}
	}
}

// goneEvent is the last event of an evicted watcher.
func (w *watcher) goneEvent() watch.Event {
	return watch.Event{Type: watch.Error, Object: &metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusGone,
		Reason:  metav1.StatusReasonExpired,
		Message: fmt.Sprintf("watch of %s closed: the client did not keep up with the events; relist", w.c.cfg.GroupResource),
	}}
}

// handle sends what e means for this watcher, unless e is at or below
// after (already part of what the watcher sent); false ends the watcher.
func (w *watcher) handle(ctx context.Context, e *event, after uint64) bool {
	out, ok := w.eventFor(e, after)
	if !ok {
		return true
	}
	if !w.send(ctx, out) {
		return false
	}
	w.delivered(e)
	return true
}

// eventFor is what e means for this watcher: false when nothing (e is at
// or below after, a bookmark it does not take, an object it does not
// select).
func (w *watcher) eventFor(e *event, after uint64) (watch.Event, bool) {
	if e.rv <= after {
		return watch.Event{}, false
	}
	if e.typ == watch.Bookmark {
		if !w.bookmarks {
			return watch.Event{}, false
		}
		obj, err := w.bookmarkObject(e.rv)
		if err != nil {
			return watch.Event{}, false
		}
		return watch.Event{Type: watch.Bookmark, Object: obj}, true
	}
	return w.convert(e)
}

// delivered counts e, sent to the client's channel.
func (w *watcher) delivered(e *event) {
	if e.typ != watch.Bookmark {
		w.c.m.dispatchTotal.Observe(time.Since(e.recordTime).Seconds())
	}
}

// convert turns e into the event this watcher sees, as upstream's
// convertToWatchEvent: an object that starts (stops) matching the
// selector is ADDED (DELETED, with the previous object at the event's
// revision).
func (w *watcher) convert(e *event) (watch.Event, bool) {
	if !hasPathPrefix(e.key, w.key) {
		return watch.Event{}, false
	}
	curIn := e.cur != nil && matches(&w.pred, e.cur.labels, e.cur.fields)
	prevIn := e.prev != nil && matches(&w.pred, e.prev.labels, e.prev.fields)
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
