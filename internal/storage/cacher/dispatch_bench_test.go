package cacher_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// BenchmarkDispatch1000Watchers100Events measures the cache's fan-out
// alone: 1,000 watchers of all pods (from the cache's revision, no
// initial state) each receive 100 events, offered by the dispatcher in
// bursts of 10 (the smallest watcher buffer) with the readers caught up
// between bursts. It reports the process's CPU and the allocations per
// event per watcher (delivery), and fails if a watcher is closed as too
// slow.
//
//	go test ./internal/storage/cacher -run '^$' -bench Dispatch1000 -count 5
func BenchmarkDispatch1000Watchers100Events(b *testing.B) {
	const (
		watchers = 1000
		events   = 100
		burst    = 10
	)
	f := newFixture(b)
	f.create(b, newPod("ns", "hot", "node-1"))
	rv := strconv.FormatUint(f.currentRV(b), 10)
	// Wait for the cache to hold the pod's event.
	w0, err := f.cacher.Watch(context.Background(), "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true, Predicate: storage.Everything})
	if err != nil {
		b.Fatal(err)
	}
	next(b, w0, 10*time.Second)
	w0.Stop()

	ws := make([]watch.Interface, watchers)
	var round sync.WaitGroup
	var readers sync.WaitGroup
	var failed sync.Once
	failure := make(chan string, 1)
	for i := range ws {
		w, err := f.cacher.Watch(context.Background(), "/pods", storage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: storage.Everything})
		if err != nil {
			b.Fatal(err)
		}
		ws[i] = w
		readers.Go(func() {
			n := 0
			for ev := range w.ResultChan() {
				if ev.Type == watch.Error {
					failed.Do(func() { failure <- "a watcher was closed as too slow" })
					return
				}
				n++
				if n%burst == 0 {
					round.Done()
				}
			}
		})
	}
	defer func() {
		for _, w := range ws {
			w.Stop()
		}
		readers.Wait()
	}()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	before := cpuNow(b)
	for b.Loop() {
		for range events / burst {
			round.Add(watchers)
			if !cacher.Redispatch(f.cacher, burst) {
				b.Fatal("no event to dispatch")
			}
			caught := make(chan struct{})
			go func() { round.Wait(); close(caught) }()
			select {
			case <-caught:
			case msg := <-failure:
				b.Fatal(msg)
			case <-time.After(time.Minute):
				b.Fatal("the watchers did not get every event")
			}
		}
	}
	deliveries := float64(b.N * watchers * events)
	b.ReportMetric(float64((cpuNow(b)-before).Nanoseconds())/deliveries, "cpu-ns/delivery")
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Mallocs-mallocs)/deliveries, "allocs/delivery")
}

// cpuNow is the process's CPU time, user and system.
func cpuNow(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
