package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// receipt is one event as a watcher got it.
type receipt struct {
	rv uint64
	at time.Time
}

// watcher is one watch, on a connection of its own (as separate clients
// have), and what it received (see watch_stream.go).
type watcher struct {
	body     io.ReadCloser
	cancel   context.CancelFunc
	got      []receipt
	errs     int
	firstErr string
	stopped  atomic.Bool   // set before the stream is closed: errors after it are the stop's
	enough   chan struct{} // closed once it holds the expected count
	finished chan struct{} // closed when its loop ends
}

// watch opens cfg.Watchers watches on the run's pods from the current
// revision, makes cfg.Updates updates (cfg.UpdateWriters at a time) and
// measures, for every event at every watcher, the time from the write's
// acknowledgement to its receipt; then checks that every watcher got
// every update once, in order.
func (r *runner) watch(ctx context.Context) (Result, error) {
	if r.cfg.Watchers == 0 || r.cfg.Updates == 0 {
		return Result{}, nil
	}
	l, err := r.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return Result{}, err
	}
	from := l.ResourceVersion
	wctr := &counters{}
	defer wctr.conns.closeAll()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	watchers := make([]*watcher, r.cfg.Watchers)
	bar := r.bar("watch: open")
	_, _, err = parallel(ctx, len(watchers), r.cfg.Writers, func(d int64) { bar.Set(d, int64(len(watchers))) }, func(ctx context.Context, i int) error {
		cs, err := newClientset(r.t.Config, r.cfg.ContentType, wctr)
		if err != nil {
			return err
		}
		wctx, wcancel := context.WithCancel(context.WithoutCancel(ctx))
		body, err := openWatch(wctx, cs, r.ns, from)
		if err != nil {
			wcancel()
			return err
		}
		watchers[i] = &watcher{body: body, cancel: wcancel, enough: make(chan struct{}), finished: make(chan struct{})}
		return nil
	})
	bar.Finish()
	var wg sync.WaitGroup
	defer func() {
		for _, w := range watchers {
			if w != nil {
				w.stop()
			}
		}
		wg.Wait()
	}()
	if err != nil {
		return Result{}, fmt.Errorf("opening watches: %w", err)
	}
	for _, w := range watchers {
		wg.Go(func() { w.receive(newEventReader(r.cfg.ContentType, w.body), r.cfg.Updates) })
	}

	// The updates, pod after pod.
	acks := make(map[uint64]time.Time, r.cfg.Updates)
	sends := make(map[uint64]time.Time, r.cfg.Updates) // when each update was sent
	var mu sync.Mutex
	names := len(r.pods)
	bar = r.bar("watch: update")
	wire0 := wctr.wire.Load()
	start := time.Now()
	lat, errs, err := parallel(ctx, r.cfg.Updates, r.cfg.UpdateWriters, func(d int64) { bar.Set(d, int64(r.cfg.Updates)) }, func(ctx context.Context, seq int) error {
		sent := time.Now()
		rv, ack, err := r.update(ctx, seq%names, seq)
		if err != nil {
			return err
		}
		n, err := parseRV(rv)
		if err != nil {
			return err
		}
		mu.Lock()
		acks[n] = ack
		sends[n] = sent
		mu.Unlock()
		return nil
	})
	bar.Finish()
	if err != nil {
		return Result{}, fmt.Errorf("updates: %w", err)
	}
	wait, cancelWait := context.WithTimeout(ctx, r.cfg.WatchTimeout)
	defer cancelWait()
	for _, w := range watchers {
		select {
		case <-w.enough:
		case <-w.finished:
		case <-wait.Done(): // stays done: the others are not waited for
		}
	}
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	seconds := time.Since(start).Seconds()
	time.Sleep(100 * time.Millisecond) // late duplicates, if any, still count
	for _, w := range watchers {
		w.stop()
	}
	wg.Wait()

	res := Result{Seconds: round3(seconds), Errors: errs}
	res.Watch = check(watchers, acks)
	us := lat.summary()
	res.Watch.UpdateP50ms, res.Watch.UpdateP99ms = us.p50, us.p99
	d := make([]time.Duration, 0, len(watchers)*len(acks))
	fromSend := make([]time.Duration, 0, len(watchers)*len(acks))
	for _, w := range watchers {
		for _, g := range w.got {
			ack, ok := acks[g.rv]
			if !ok {
				continue
			}
			fromSend = append(fromSend, g.at.Sub(sends[g.rv]))
			if dt := g.at.Sub(ack); dt > 0 {
				d = append(d, dt)
			} else {
				d = append(d, 0)
				res.Watch.BeforeAck++
			}
		}
	}
	s := summarize(d)
	res.Ops = len(acks)
	res.Items = s.n // deliveries
	res.P50ms, res.P99ms, res.MaxMs = s.p50, s.p99, s.max
	s = summarize(fromSend)
	res.Watch.FromSendP50ms, res.Watch.FromSendP99ms = s.p50, s.p99
	if s.n > 0 {
		res.WireBytes = (wctr.wire.Load() - wire0) / int64(s.n)
	}
	return res, nil
}

func (w *watcher) stop() {
	w.stopped.Store(true)
	w.cancel()
	w.body.Close()
}

func (w *watcher) fail(err error) {
	if w.errs == 0 {
		w.firstErr = err.Error()
	}
	w.errs++
}

// receive records events until the stream ends; enough is closed at the
// expected count. The receipt time is taken as soon as the event is read.
func (w *watcher) receive(events eventReader, expected int) {
	defer close(w.finished)
	w.got = make([]receipt, 0, expected)
	closed := false
	for {
		ev, err := events.next()
		at := time.Now()
		if err != nil {
			if !w.stopped.Load() {
				w.fail(err) // the stream ended before the watcher was done
			}
			return
		}
		switch ev.typ {
		case "ERROR":
			w.fail(fmt.Errorf("an ERROR event"))
			continue
		case "BOOKMARK":
			continue
		}
		rv, err := parseRVBytes(ev.rv)
		if err != nil {
			w.fail(err)
			continue
		}
		w.got = append(w.got, receipt{rv: rv, at: at})
		if !closed && len(w.got) >= expected {
			close(w.enough)
			closed = true
		}
	}
}

// check compares what every watcher got with the acknowledged updates:
// each exactly once, in the order of their revisions.
func check(watchers []*watcher, acks map[uint64]time.Time) *WatchCheck {
	c := &WatchCheck{Watchers: len(watchers), Expected: len(acks)}
	for _, w := range watchers {
		seen := make(map[uint64]bool, len(acks))
		var last uint64
		bad := w.errs > 0
		c.Errors += w.errs
		if c.FirstError == "" {
			c.FirstError = w.firstErr
		}
		for _, g := range w.got {
			switch {
			case func() bool { _, ok := acks[g.rv]; return !ok }():
				c.Unexpected++
				bad = true
			case seen[g.rv]:
				c.Duplicates++
				bad = true
			default:
				seen[g.rv] = true
				if g.rv < last {
					c.OutOfOrder++
					bad = true
				}
			}
			last = max(last, g.rv)
		}
		if missing := len(acks) - len(seen); missing > 0 {
			c.Missing += missing
			bad = true
		}
		if !bad {
			c.CompleteWatchers++
		}
	}
	c.Complete = c.CompleteWatchers == len(watchers)
	return c
}
