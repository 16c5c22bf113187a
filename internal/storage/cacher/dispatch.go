package cacher

import (
	"context"
	"math/rand/v2"
	"runtime"
	"time"

	"k8s.io/apimachinery/pkg/watch"
)

// dispatch is the dispatcher goroutine: it offers each applied event to
// the watchers that may want it, and bookmarks to the watchers due for
// one, until ctx ends.
//
// An event is first offered to every watcher without blocking; the
// watchers that were full then share a time budget (upstream's: 50 ms per
// second, at most 100 ms; at least 20 ms while it can lend) during which
// the dispatcher waits for them, one after the other; those still full
// are evicted. A slow watcher therefore
// costs the others at most the budget, and never blocks the reflector
// (which only waits when the 100 events of incoming are queued).
func (c *Cacher) dispatch(ctx context.Context) {
	// Since Go 1.23 a stopped or reset timer delivers no stale tick, so
	// one timer serves every wait.
	d := dispatcher{c: c, budget: newTimeBudget(time.Now()), timer: time.NewTimer(time.Hour)}
	d.timer.Stop()
	ticker := time.NewTimer(jitter(time.Second))
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-c.incoming:
			d.lastRV = e.rv
			if e.typ == watch.Bookmark {
				if e.bookmarkAll {
					d.bookmarkAll(e.rv)
				}
				continue
			}
			d.event(e)
		case <-ticker.C:
			ticker.Reset(jitter(time.Second))
			d.bookmarks(time.Now())
		}
	}
}

// jitter is d ± 25 %.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()-0.5)*0.5*float64(d))
}

// dispatcher is the dispatcher goroutine's state.
type dispatcher struct {
	c       *Cacher
	budget  *timeBudget
	timer   *time.Timer // reused for the budget
	lastRV  uint64      // the revision of the last event handled
	targets []*watcher  // reused buffers
	blocked []*watcher
}

func (d *dispatcher) event(e *event) {
	c := d.c
	c.watchersMu.Lock()
	d.targets = c.reg.targets(e, c.cfg.TriggerField, d.targets[:0])
	c.watchersMu.Unlock()
	c.m.eventsDispatched.Inc()
	if len(d.targets) == 0 {
		return
	}
	d.blocked = d.blocked[:0]
	for _, w := range d.targets {
		if !w.tryAdd(e) {
			d.blocked = append(d.blocked, w)
		}
	}
	if len(d.blocked) > 0 {
		d.waitBlocked(e)
	}
	clear(d.targets)
	clear(d.blocked)
}

// minBlockedWait is the least time full watchers get to take an event
// while the budget can lend it: a burst of events can fill the buffers of
// watchers that are keeping up but have not been scheduled yet (the
// dispatcher holds the processor), and they deserve a turn before being
// judged slow. A stalled watcher costs it once, when it is evicted; a
// watcher that is always slow runs the budget into debt and is evicted.
const minBlockedWait = 20 * time.Millisecond

// waitBlocked gives the full watchers the available budget to take e,
// and evicts those that do not.
func (d *dispatcher) waitBlocked(e *event) {
	// First let the watchers run: most are not slow, only not yet
	// scheduled.
	runtime.Gosched()
	blocked := d.blocked[:0]
	for _, w := range d.blocked {
		if !w.tryAdd(e) {
			blocked = append(blocked, w)
		}
	}
	clear(d.blocked[len(blocked):])
	d.blocked = blocked
	if len(blocked) == 0 {
		return
	}
	start := time.Now()
	taken := d.budget.take(start)
	wait := taken
	if wait < minBlockedWait && d.budget.canLend(minBlockedWait-wait) {
		wait = minBlockedWait
	}
	d.timer.Reset(wait)
	expired := false
	for _, w := range d.blocked {
		if expired {
			if !w.tryAdd(e) {
				d.c.evict(w)
			}
			continue
		}
		if !w.addWait(e, d.timer.C) {
			expired = true
			if !w.tryAdd(e) {
				d.c.evict(w)
			}
		}
	}
	d.timer.Stop()
	d.budget.settle(taken, time.Since(start))
}

// bookmarks offers a bookmark to the watchers due for one; bookmarks never
// block (a full watcher just misses one).
func (d *dispatcher) bookmarks(now time.Time) {
	c := d.c
	c.watchersMu.Lock()
	d.targets = c.reg.bookmarks.due(now, d.targets[:0])
	c.watchersMu.Unlock()
	if len(d.targets) == 0 {
		return
	}
	e := &event{typ: watch.Bookmark, rv: d.lastRV}
	for _, w := range d.targets {
		w.tryAdd(e)
	}
	c.watchersMu.Lock()
	for _, w := range d.targets {
		if !w.registered {
			continue
		}
		if next, ok := w.nextBookmark(now); ok {
			c.reg.bookmarks.add(w, next)
		}
	}
	c.watchersMu.Unlock()
	clear(d.targets)
}

// bookmarkAll offers a bookmark at rv to every watcher that allows them
// (after RequestWatchProgress).
func (d *dispatcher) bookmarkAll(rv uint64) {
	c := d.c
	c.watchersMu.Lock()
	d.targets = c.reg.all(d.targets[:0])
	c.watchersMu.Unlock()
	e := &event{typ: watch.Bookmark, rv: rv}
	for _, w := range d.targets {
		if w.bookmarks {
			w.tryAdd(e)
		}
	}
	clear(d.targets)
}

// evict ends a watcher that could not keep up.
func (c *Cacher) evict(w *watcher) {
	c.m.terminated.Inc()
	c.log.Info("Forcing watcher close due to unresponsiveness", "key", w.key,
		"labels", w.pred.Label, "fields", w.pred.Field, "input", len(w.input), "result", len(w.result))
	c.forget(w)
	w.evict()
}

// forget removes w from dispatch (it may already be gone).
func (c *Cacher) forget(w *watcher) {
	c.watchersMu.Lock()
	if c.reg.remove(w) {
		c.m.watchers.Set(float64(c.reg.count))
	}
	c.watchersMu.Unlock()
}

// stopAllWatchers ends every watch (the cacher is stopping).
func (c *Cacher) stopAllWatchers() {
	c.watchersMu.Lock()
	all := c.reg.all(nil)
	c.watchersMu.Unlock()
	for _, w := range all {
		w.Stop()
	}
}
