package bench

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/informers"
)

// informerSyncs is how many informers are synced one after the other (at
// most; ListRepeats when fewer).
const informerSyncs = 5

// informer times a client-go pod informer of the run's namespace from
// its start until it has synced every pod, as a controller starts
// (client-go's defaults: a streaming watch-list where the server offers
// it, else a list then a watch); ops are syncs.
func (r *runner) informer(ctx context.Context) (Result, error) {
	want := len(r.names())
	lat := &latencies{}
	n := max(1, min(r.cfg.ListRepeats, informerSyncs))
	start := time.Now()
	for range n {
		t := time.Now()
		got, err := r.syncInformer(ctx)
		if err != nil {
			return Result{}, err
		}
		if got != want {
			return Result{}, fmt.Errorf("the informer holds %d pods, %d were created", got, want)
		}
		lat.add(time.Since(t))
	}
	res := Result{Seconds: round3(time.Since(start).Seconds()), Items: want}
	fill(&res, lat, 0)
	return res, nil
}

func (r *runner) syncInformer(ctx context.Context) (int, error) {
	f := informers.NewSharedInformerFactoryWithOptions(r.cs, 0, informers.WithNamespace(r.ns))
	inf := f.Core().V1().Pods().Informer()
	stop := make(chan struct{})
	defer f.Shutdown() // after close(stop): waits for the informer's goroutines
	defer close(stop)
	f.Start(stop)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	// Polled every millisecond: cache.WaitForCacheSync polls every 100.
	for !inf.HasSynced() {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("the informer did not sync: %w", context.Cause(ctx))
		case <-time.After(time.Millisecond):
		}
	}
	return len(inf.GetStore().ListKeys()), nil
}
