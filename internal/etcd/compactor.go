package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchRetry is how long the compact_rev_key watch waits after an error
// before it reads and watches again (upstream: 1 s).
const watchRetry = time.Second

// Compactor is one server's part in the cluster-wide compaction protocol of
// kube-apiserver (see Compact): every interval it runs a round, so that
// however many servers share the etcd cluster, etcd is compacted once per
// interval and keeps between one and two intervals of history.
//
// It also watches compact_rev_key, so CompactRevision reports compactions
// made by any server, and by CompactAt, not only its own.
type Compactor struct {
	kv       clientv3.KV
	watcher  clientv3.Watcher
	interval time.Duration
	log      *slog.Logger
	running  atomic.Bool

	mu  sync.Mutex
	rev int64 // the highest compaction revision observed; guarded by mu
}

// NewCompactor returns a compactor that compacts through client every
// interval once Run is called. An interval of 0 (or less) never compacts,
// but still observes compactions made by others. A nil logger discards
// logs. NewCompactor starts nothing; the caller keeps the client open until
// Run has returned.
func NewCompactor(client *clientv3.Client, interval time.Duration, logger *slog.Logger) *Compactor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Compactor{
		kv:       client.KV,
		watcher:  client.Watcher,
		interval: max(interval, 0),
		log:      logger,
	}
}

// Run compacts every interval and watches compact_rev_key until ctx ends,
// then returns nil once everything it started has stopped. Errors of etcd
// are logged and retried, not returned. Run may be called once.
func (c *Compactor) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("compactor: Run called twice")
	}
	var wg sync.WaitGroup
	if c.interval > 0 {
		wg.Go(func() { c.compactLoop(ctx) })
	}
	wg.Go(func() { c.watchLoop(ctx) })
	wg.Wait()
	return nil
}

// CompactRevision returns the highest etcd compaction revision observed, 0
// if none: reads below it fail with rpctypes.ErrCompacted. It is safe for
// concurrent use.
func (c *Compactor) CompactRevision() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rev
}

// observe records a compaction at rev.
func (c *Compactor) observe(rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rev = max(c.rev, rev)
}

// compactLoop runs a round every interval, measured from the end of the
// previous round, until ctx ends.
func (c *Compactor) compactLoop(ctx context.Context) {
	timer := time.NewTimer(c.interval)
	defer timer.Stop()
	var t, rev int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		r, err := compactRound(ctx, c.kv, t, rev)
		t, rev = r.t, r.rev
		if r.compacted != 0 {
			c.observe(r.compacted)
		}
		switch {
		case err != nil:
			if ctx.Err() == nil {
				c.log.Error("etcd compaction round failed", "err", err)
			}
		case r.won && r.compacted != 0:
			c.log.Info("compacted etcd", "revision", r.compacted, "next", rev)
		case r.won:
			c.log.Debug("recorded the revision to compact next", "next", rev)
		default:
			c.log.Debug("another server compacted etcd", "revision", r.compacted, "next", rev)
		}
		timer.Reset(c.interval)
	}
}

// watchLoop keeps CompactRevision up to date with compact_rev_key until ctx
// ends, starting again watchRetry after any error.
func (c *Compactor) watchLoop(ctx context.Context) {
	for {
		err := c.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("watching etcd compactions", "key", CompactRevKey, "err", err, "retry", watchRetry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(watchRetry):
		}
	}
}

// watch reads compact_rev_key and follows its changes until the watch ends.
// It always returns an error: why it stopped.
func (c *Compactor) watch(ctx context.Context) error {
	resp, err := c.kv.Get(ctx, CompactRevKey)
	if err != nil {
		return fmt.Errorf("reading %s: %w", CompactRevKey, err)
	}
	if len(resp.Kvs) > 0 {
		c.observeValue(resp.Kvs[0].Value)
	}
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	events := c.watcher.Watch(ctx, CompactRevKey, clientv3.WithRev(resp.Header.Revision+1))
	for wr := range events {
		if err := wr.Err(); err != nil {
			return fmt.Errorf("watching %s: %w", CompactRevKey, err)
		}
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut {
				c.observeValue(ev.Kv.Value)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("watching %s: watch closed", CompactRevKey)
}

// observeValue records the compaction stored in compact_rev_key; a value
// that is not a revision is logged and skipped.
func (c *Compactor) observeValue(v []byte) {
	rev, err := parseRev(v)
	if err != nil {
		c.log.Warn("ignoring a compaction record", "err", err)
		return
	}
	c.observe(rev)
}
