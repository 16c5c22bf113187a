package bench

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// lists lists every pod cfg.ListRepeats times at RV "" (consistent) and
// at RV "0" (any cached state), one list at a time. Bodies are read, not
// decoded (client-go's decoding would dominate): the first list of each
// is decoded, untimed, to check it holds every pod.
func (r *runner) lists(ctx context.Context) error {
	for _, rv := range []string{"", "0"} {
		phase := "list-rv-0"
		if rv == "" {
			phase = "list-rv-empty"
		}
		l, err := r.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{ResourceVersion: rv})
		if err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
		want := len(r.names())
		if len(l.Items) != want {
			return fmt.Errorf("%s: %d pods listed, %d created", phase, len(l.Items), want)
		}
		if r.cfg.ListRepeats == 0 {
			continue
		}
		err = r.phase(ctx, phase, func(ctx context.Context) (Result, error) {
			return r.listRaw(ctx, rv, want)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) listRaw(ctx context.Context, rv string, items int) (Result, error) {
	opts := &metav1.ListOptions{ResourceVersion: rv}
	lat := &latencies{}
	r.ctr.gzip.Store(false)
	wire0, body0 := r.ctr.wire.Load(), r.ctr.body.Load()
	start := time.Now()
	for range r.cfg.ListRepeats {
		t := time.Now()
		_, err := r.cs.CoreV1().RESTClient().Get().Namespace(r.ns).Resource("pods").
			VersionedParams(opts, scheme.ParameterCodec).Do(ctx).Raw()
		if err != nil {
			return Result{}, err
		}
		lat.add(time.Since(t))
	}
	res := Result{Seconds: round3(time.Since(start).Seconds()), Items: items, Gzip: r.ctr.gzip.Load()}
	fill(&res, lat, 0)
	res.WireBytes = (r.ctr.wire.Load() - wire0) / int64(res.Ops)
	res.BodyBytes = (r.ctr.body.Load() - body0) / int64(res.Ops)
	return res, nil
}

// paged walks every pod in pages of cfg.PageSize, cfg.ListRepeats times
// (at least once), decoding each page as an informer's pager does; ops
// are pages, the latency that of one page.
func (r *runner) paged(ctx context.Context) (Result, error) {
	lat := &latencies{}
	wire0, body0 := r.ctr.wire.Load(), r.ctr.body.Load()
	walks, items := max(1, r.cfg.ListRepeats), 0
	start := time.Now()
	for range walks {
		items = 0
		cont := ""
		for {
			t := time.Now()
			l, err := r.cs.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{Limit: int64(r.cfg.PageSize), Continue: cont})
			if err != nil {
				return Result{}, err
			}
			lat.add(time.Since(t))
			items += len(l.Items)
			if cont = l.Continue; cont == "" {
				break
			}
		}
	}
	if want := len(r.names()); items != want {
		return Result{}, fmt.Errorf("%d pods in the pages, %d created", items, want)
	}
	res := Result{Seconds: round3(time.Since(start).Seconds()), Items: items}
	fill(&res, lat, 0)
	res.WireBytes = (r.ctr.wire.Load() - wire0) / int64(res.Ops)
	res.BodyBytes = (r.ctr.body.Load() - body0) / int64(res.Ops)
	return res, nil
}
