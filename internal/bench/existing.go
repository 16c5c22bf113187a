package bench

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// existingTimeout bounds the wait for the server's cache to hold every
// existing pod.
const existingTimeout = 10 * time.Minute

// existing loads the pods of cfg.Namespace (pages of 5,000 at RV "", as
// etcd holds them), then lists at RV "0" until the answer, served from
// the server's cache, holds every one: ops is that count of pods, the
// latency that of the last list.
func (r *runner) existing(ctx context.Context) (Result, error) {
	start := time.Now()
	cont := ""
	for {
		l, err := r.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{Limit: 5000, Continue: cont})
		if err != nil {
			return Result{}, fmt.Errorf("the pods of %s: %w", r.ns, err)
		}
		for i := range l.Items {
			r.pods = append(r.pods, &podSlot{pod: &l.Items[i]})
		}
		if cont = l.Continue; cont == "" {
			break
		}
	}
	if len(r.pods) == 0 {
		return Result{}, fmt.Errorf("no pod in namespace %s", r.ns)
	}
	want := len(r.pods)
	ctx, cancel := context.WithTimeout(ctx, existingTimeout)
	defer cancel()
	lat := &latencies{}
	for {
		t := time.Now()
		l, err := r.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return Result{}, fmt.Errorf("list at RV \"0\": %w", err)
		}
		if len(l.Items) >= want {
			lat.add(time.Since(t))
			break
		}
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("a list at RV \"0\" holds %d of the %d pods after %v", len(l.Items), want, existingTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
	res := Result{Seconds: round3(time.Since(start).Seconds()), Items: want}
	fill(&res, lat, 0)
	res.Ops = want
	return res, nil
}
