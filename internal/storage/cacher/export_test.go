package cacher

import (
	"sync/atomic"
	"time"
)

// seq numbers the events of Redispatch, after the cache's revision.
var seq atomic.Uint64

// SetFreshTimeout shortens how long reads wait for the cache to reach a
// revision (3 s otherwise), so that tests of what follows the wait are fast.
func SetFreshTimeout(cfg *Config, d time.Duration) { cfg.freshTimeout = d }

// GiveUpProgress makes c act as after its progress requests went
// unanswered (a quiet cluster just restarted).
func GiveUpProgress(c *Cacher) { c.progressGaveUp.Store(true) }

// SetProgressProbing paces the reflector's progress requests until etcd
// answers one: probes of them every every, then one every retry.
func SetProgressProbing(cfg *Config, every time.Duration, probes int, retry time.Duration) {
	cfg.probing = probing{every: every, probes: probes, retry: retry}
}

// ProgressState reports whether etcd has answered a progress request, and
// whether the reflector has given up asking often.
func ProgressState(c *Cacher) (seen, gaveUp bool) {
	return c.progressSeen.Load(), c.progressGaveUp.Load()
}

// Redispatch offers the newest event of c's history to c's watchers n
// more times, as the dispatcher offers an event, at revisions after the
// cache's (benchmarks of the fan-out: the watchers get it n more times;
// the cache itself does not change). False when the history is empty.
func Redispatch(c *Cacher, n int) bool {
	c.mu.RLock()
	seq.CompareAndSwap(0, c.rv)
	var e *event
	if c.hist.size() > 0 {
		e = c.hist.at(c.hist.end - 1)
	}
	c.mu.RUnlock()
	if e == nil {
		return false
	}
	d := dispatcher{c: c, budget: newTimeBudget(time.Now()), timer: time.NewTimer(time.Hour)}
	d.timer.Stop()
	for range n {
		rev := seq.Add(1)
		d.event(&event{typ: e.typ, key: e.key, rv: rev, cur: e.cur, prev: e.prev, deleted: e.deleted, recordTime: time.Now()})
	}
	return true
}
