package cacher_test

import (
	"testing"
	"time"
)

// Watchers that start while writes go on, from a revision before them,
// first get the history since that revision from their own goroutine,
// with the live events queued behind it, then get the live events from
// the dispatcher directly: every one sees every write once, in order.
func TestWatchersStartedDuringWritesSeeEveryEventOnceInOrder(t *testing.T) {
	f := newFixture(t)
	rv := listRV(t, f)
	const watchers = 40
	rs := make(chan *reader, watchers)
	done := make(chan []write)
	go func() { done <- churn(t, f, "h", 4, 25) }()
	for range watchers {
		rs <- startReader(watchFrom(t, f, rv))
		time.Sleep(5 * time.Millisecond)
	}
	close(rs)
	want := <-done
	i := 0
	for r := range rs {
		if err := r.waitFor(want, 30*time.Second); err != nil {
			t.Errorf("watcher %d: %v", i, err)
		}
		i++
	}
}
