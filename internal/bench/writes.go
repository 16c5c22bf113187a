package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxErrors stops a phase whose requests keep failing.
const maxErrors = 100

// parallel calls fn(i) for i in [0, n) on conc goroutines, timing each
// call; it returns the latencies of the calls that succeeded, the count
// of errors and, if any, the first (it stops after maxErrors).
func parallel(ctx context.Context, n, conc int, set func(done int64), fn func(ctx context.Context, i int) error) (*latencies, int, error) {
	lat := &latencies{d: make([]time.Duration, 0, n)}
	var next, done, failed atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			local := make([]time.Duration, 0, n/conc+1)
			defer func() { lat.addAll(local) }()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				start := time.Now()
				err := fn(ctx, i)
				if err != nil {
					once.Do(func() { firstErr = err })
					if failed.Add(1) > maxErrors {
						cancel()
					}
				} else {
					local = append(local, time.Since(start))
				}
				if set != nil {
					set(done.Add(1))
				}
			}
		})
	}
	wg.Wait()
	if errs := int(failed.Load()); errs > 0 {
		return lat, errs, fmt.Errorf("%d requests failed, the first: %w", errs, firstErr)
	}
	return lat, 0, ctx.Err()
}

// fill sets a result's counts and latencies.
func fill(res *Result, lat *latencies, errs int) {
	s := lat.summary()
	res.Ops, res.Errors = s.n, errs
	res.P50ms, res.P99ms, res.MaxMs = s.p50, s.p99, s.max
}

// create creates cfg.Pods pods at concurrency cfg.Writers.
func (r *runner) create(ctx context.Context) (Result, error) {
	n := r.cfg.Pods
	r.pods = make([]*podSlot, n)
	for i := range r.pods {
		r.pods[i] = &podSlot{}
	}
	bar := r.bar("create")
	defer bar.Finish()
	start := time.Now()
	lat, errs, err := parallel(ctx, n, r.cfg.Writers, func(d int64) { bar.Set(d, int64(n)) }, func(ctx context.Context, i int) error {
		p, err := r.cs.CoreV1().Pods(r.ns).Create(ctx, newPod(r.runID, i), metav1.CreateOptions{})
		if err == nil {
			r.pods[i].pod = p
		}
		return err
	})
	res := Result{Seconds: round3(time.Since(start).Seconds())}
	fill(&res, lat, errs)
	if err != nil && (errs > maxErrors || errs == 0) {
		return res, err
	}
	if res.Ops == 0 {
		return res, errors.New("no pod created")
	}
	return res, nil
}

// get reads cfg.Gets pods, chosen at random, at concurrency cfg.Writers
// (RV "": a read as fresh as etcd).
func (r *runner) get(ctx context.Context) (Result, error) {
	names := r.names()
	if len(names) == 0 || r.cfg.Gets == 0 {
		return Result{}, nil
	}
	start := time.Now()
	lat, errs, err := parallel(ctx, r.cfg.Gets, r.cfg.Writers, nil, func(ctx context.Context, _ int) error {
		_, err := r.cs.CoreV1().Pods(r.ns).Get(ctx, names[rand.IntN(len(names))], metav1.GetOptions{})
		return err
	})
	res := Result{Seconds: round3(time.Since(start).Seconds())}
	fill(&res, lat, errs)
	if err != nil && (errs > maxErrors || errs == 0) {
		return res, err
	}
	return res, nil
}

// names are the pods created.
func (r *runner) names() []string {
	var out []string
	for _, s := range r.pods {
		if s.pod != nil {
			out = append(out, s.pod.Name)
		}
	}
	return out
}

// update changes pod k's annotation and returns the new resourceVersion,
// acknowledged at the returned time.
func (r *runner) update(ctx context.Context, k, seq int) (string, time.Time, error) {
	s := r.pods[k]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pod == nil {
		return "", time.Time{}, fmt.Errorf("pod %d was not created", k)
	}
	p := s.pod.DeepCopy()
	p.Annotations["regis.dev/bench-update"] = fmt.Sprint(seq)
	out, err := r.cs.CoreV1().Pods(r.ns).Update(ctx, p, metav1.UpdateOptions{})
	ack := time.Now()
	if err != nil {
		return "", ack, err
	}
	s.pod = out
	return out.ResourceVersion, ack, nil
}
