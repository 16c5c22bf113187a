package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
)

// put writes an unrelated key and returns the new revision.
func put(t *testing.T, c *clientv3.Client) int64 {
	t.Helper()
	resp, err := c.Put(t.Context(), "/test/counter", time.Now().String())
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	return resp.Header.Revision
}

// wantCompacted checks that reads below rev fail with ErrCompacted and a
// read at rev succeeds.
func wantCompacted(t *testing.T, c *clientv3.Client, rev int64) {
	t.Helper()
	if _, err := c.Get(t.Context(), "/test/counter", clientv3.WithRev(rev-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("get at revision %d after compacting at %d: err = %v, want %v", rev-1, rev, err, rpctypes.ErrCompacted)
	}
	if _, err := c.Get(t.Context(), "/test/counter", clientv3.WithRev(rev)); err != nil {
		t.Errorf("get at the compacted revision %d: %v", rev, err)
	}
}

// head returns etcd's current revision.
func head(t *testing.T, c *clientv3.Client) int64 {
	t.Helper()
	resp, err := c.Get(t.Context(), "/test/head")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	return resp.Header.Revision
}

// server is one server's compaction state.
type server struct{ t, rev int64 }

// round runs a round and checks its outcome: the compaction it made or
// learnt, the next clock, and whether it won (a won round's put is the next
// revision, a lost round writes nothing).
func (s *server) round(t *testing.T, c *clientv3.Client, name string, wantCompacted, wantT int64, wantWon bool) {
	t.Helper()
	wantRev := head(t, c)
	if wantWon {
		wantRev++
	}
	var compacted int64
	var err error
	s.t, s.rev, compacted, err = etcd.Compact(t.Context(), c, s.t, s.rev)
	if err != nil {
		t.Fatalf("%s: Compact: %v", name, err)
	}
	if compacted != wantCompacted || s.t != wantT || s.rev != wantRev {
		t.Fatalf("%s: compacted %d, next {t:%d rev:%d}; want %d, {t:%d rev:%d}",
			name, compacted, s.t, s.rev, wantCompacted, wantT, wantRev)
	}
}

// TestCompactProtocol plays two servers' rounds by hand, as upstream's
// compact.go describes them: the first round only records a revision, each
// later round compacts what the previous one recorded, and a server that
// lost the race adopts the winner's clock and the current revision.
func TestCompactProtocol(t *testing.T) {
	c := etcdtest.New(t).Client(t)
	var a, b server

	put(t, c)
	a.round(t, c, "A's first round", 0, 1, true)
	r1 := a.rev
	b.round(t, c, "B's first round", 0, 1, false)

	put(t, c)
	b.round(t, c, "B's second round", r1, 2, true)
	wantCompacted(t, c, r1)
	stored, err := c.Get(t.Context(), etcd.CompactRevKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(stored.Kvs[0].Value), strconv.FormatInt(r1, 10); got != want || stored.Kvs[0].Version != 2 {
		t.Errorf("%s = %q version %d, want %q version 2", etcd.CompactRevKey, got, stored.Kvs[0].Version, want)
	}

	// A's clock is stale: it loses, learns B's compaction, and wins next.
	a.round(t, c, "A's stale round", r1, 2, false)
	r2 := a.rev
	put(t, c)
	a.round(t, c, "A's next round", r2, 3, true)
	wantCompacted(t, c, r2)

	// A round below etcd's compaction revision still counts.
	b.round(t, c, "B's stale round", r2, 3, false)
	b.rev = r1
	b.round(t, c, "B's round at an already compacted revision", r1, 4, true)

	// A deleted key restarts the clock.
	if _, err := c.Delete(t.Context(), etcd.CompactRevKey); err != nil {
		t.Fatal(err)
	}
	a.round(t, c, "A's round after the key was deleted", 0, 0, false)
	a.round(t, c, "A's round on a restarted clock", a.rev, 1, true)
}

func TestCompactRejectsGarbage(t *testing.T) {
	c := etcdtest.New(t).Client(t)
	if _, err := c.Put(t.Context(), etcd.CompactRevKey, "not a number"); err != nil {
		t.Fatal(err)
	}
	newT, _, compacted, err := etcd.Compact(t.Context(), c, 0, 0)
	if err == nil || compacted != 0 || newT != 1 {
		t.Errorf("Compact over a garbage value: t %d, compacted %d, err %v; want t 1, 0 and an error", newT, compacted, err)
	}
}

// TestCompactAtIsObserved: a compaction made by another party through the
// protocol shows in CompactRevision, and old reads fail.
func TestCompactAtIsObserved(t *testing.T) {
	srv := etcdtest.New(t)
	c := srv.Client(t)
	comp := etcd.NewCompactor(srv.Client(t), 0, testLogger(t))
	stop := runCompactor(t, comp)
	defer stop()

	for range 3 {
		put(t, c)
	}
	rev := put(t, c) - 1
	// Move the clock first, as a running server would have.
	if _, _, _, err := etcd.Compact(t.Context(), c, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := etcd.CompactAt(t.Context(), c, rev); err != nil {
		t.Fatalf("CompactAt(%d): %v", rev, err)
	}
	wantCompacted(t, c, rev)
	waitFor(t, fmt.Sprintf("CompactRevision() == %d", rev), func() bool { return comp.CompactRevision() == rev })

	later := put(t, c)
	if err := etcd.CompactAt(t.Context(), c, later); err != nil {
		t.Fatalf("CompactAt(%d): %v", later, err)
	}
	wantCompacted(t, c, later)
	waitFor(t, fmt.Sprintf("CompactRevision() == %d", later), func() bool { return comp.CompactRevision() == later })

	if err := etcd.CompactAt(t.Context(), c, later+100); err == nil {
		t.Error("CompactAt a future revision succeeded")
	}
	if err := etcd.CompactAt(t.Context(), c, 0); err == nil {
		t.Error("CompactAt(0) succeeded")
	}
}

// TestCompactorSeesEarlierCompaction: a compactor started after a
// compaction reports it at once.
func TestCompactorSeesEarlierCompaction(t *testing.T) {
	srv := etcdtest.New(t)
	c := srv.Client(t)
	rev := put(t, c)
	if err := etcd.CompactAt(t.Context(), c, rev); err != nil {
		t.Fatal(err)
	}
	comp := etcd.NewCompactor(c, 0, testLogger(t))
	if got := comp.CompactRevision(); got != 0 {
		t.Errorf("CompactRevision() before Run = %d, want 0", got)
	}
	stop := runCompactor(t, comp)
	defer stop()
	waitFor(t, fmt.Sprintf("CompactRevision() == %d", rev), func() bool { return comp.CompactRevision() == rev })
	if err := comp.Run(t.Context()); err == nil {
		t.Error("a second Run succeeded")
	}
}

// TestCompactorsCompactOncePerInterval runs two compactors on one etcd for
// about ten intervals while a writer moves the revision, and checks through
// the history of compact_rev_key that the cluster was compacted once per
// interval, not once per server, each time at the revision recorded one
// round earlier.
func TestCompactorsCompactOncePerInterval(t *testing.T) {
	const interval = 200 * time.Millisecond
	const runFor = 10 * interval
	srv := etcdtest.New(t)
	c := srv.Client(t)
	history := c.Watch(t.Context(), etcd.CompactRevKey, clientv3.WithRev(1))

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { // the writer
		for ctx.Err() == nil {
			_, _ = c.Put(ctx, "/test/counter", "x")
			time.Sleep(10 * time.Millisecond)
		}
	})
	servers := []*etcd.Compactor{
		etcd.NewCompactor(srv.Client(t), interval, testLogger(t).With("server", 1)),
		etcd.NewCompactor(srv.Client(t), interval, testLogger(t).With("server", 2)),
	}
	start := time.Now()
	for _, s := range servers {
		wg.Go(func() { _ = s.Run(ctx) })
	}
	time.Sleep(runFor)
	cancel()
	wg.Wait()
	elapsed := time.Since(start)

	final, err := c.Get(t.Context(), etcd.CompactRevKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Kvs) == 0 {
		t.Fatalf("no compaction round in %v", elapsed)
	}
	var puts []*clientv3.Event
	for len(puts) == 0 || puts[len(puts)-1].Kv.Version < final.Kvs[0].Version {
		select {
		case wr := <-history:
			if err := wr.Err(); err != nil {
				t.Fatal(err)
			}
			puts = append(puts, wr.Events...)
		case <-time.After(10 * time.Second):
			t.Fatalf("watch of %s: got %d events, want %d", etcd.CompactRevKey, len(puts), final.Kvs[0].Version)
		}
	}

	// Won rounds are at least an interval apart, whatever the number of servers.
	maxRounds := int(elapsed/interval) + 1
	if n := len(puts); n < 3 || n > maxRounds {
		t.Fatalf("%d compaction rounds won in %v at interval %v, want 3..%d", n, elapsed, interval, maxRounds)
	}
	var last int64
	for i, ev := range puts {
		v, err := strconv.ParseInt(string(ev.Kv.Value), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kv.Version != int64(i+1) {
			t.Errorf("put %d has version %d", i, ev.Kv.Version)
		}
		switch {
		case i == 0 && v != 0:
			t.Errorf("the first round stored %d, want 0 (the first round only records)", v)
		case i > 0 && (v < puts[i-1].Kv.ModRevision || v >= ev.Kv.ModRevision):
			t.Errorf("round %d compacted at %d, want the revision of round %d or later (%d..%d)",
				i, v, i-1, puts[i-1].Kv.ModRevision, ev.Kv.ModRevision-1)
		}
		last = v
	}
	// The last round may have been cancelled between its put and its
	// compaction; the one before it completed.
	prev, _ := strconv.ParseInt(string(puts[len(puts)-2].Kv.Value), 10, 64)
	if _, err := c.Get(t.Context(), "/test/counter", clientv3.WithRev(prev-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("get at revision %d after compacting at %d: err = %v, want %v", prev-1, prev, err, rpctypes.ErrCompacted)
	}
	for i, s := range servers {
		if got := s.CompactRevision(); got < prev || got > last {
			t.Errorf("server %d: CompactRevision() = %d, want %d..%d", i+1, got, prev, last)
		}
	}
}

// runCompactor runs comp until the returned stop is called; stop waits for
// Run to return.
func runCompactor(t *testing.T, comp *etcd.Compactor) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- comp.Run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return 10s after cancel")
		}
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
