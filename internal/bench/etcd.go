package bench

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// runEtcd is the raw etcd baseline against cfg.Etcd: cfg.Pods create
// transactions (put if absent, as kube-apiserver creates) of values of
// valueBytes at concurrency cfg.Writers, cfg.Gets single-key reads at the
// same concurrency, and cfg.ListRepeats linearizable ranges over all the
// keys, under a key prefix of its own, deleted after.
func runEtcd(ctx context.Context, cfg *Config, t Target, valueBytes int, emit func(Result)) error {
	if valueBytes == 0 {
		valueBytes = 2048 // the server stored no pod where we looked
	}
	prefix := "/regis-bench/" + cfg.NamespacePrefix + "-" + randomSuffix() + "/"
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = cfg.Etcd.Delete(ctx, prefix, clientv3.WithPrefix())
	}()
	value := string(make([]byte, valueBytes))
	key := func(i int) string { return fmt.Sprintf("%sbench-%05d", prefix, i) }
	// The etcd phases are measured against the first target's processes:
	// its etcd is the one loaded; its server idles.
	phase := func(name string, fn func() (Result, error)) error {
		res, err := measure(t, fn)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		res.Target, res.Phase = "etcd", name
		emit(res)
		return nil
	}
	err := phase("etcd-put", func() (Result, error) {
		start := time.Now()
		lat, errs, err := parallel(ctx, cfg.Pods, cfg.Writers, nil, func(ctx context.Context, i int) error {
			k := key(i)
			_, err := cfg.Etcd.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", 0)).Then(clientv3.OpPut(k, value)).Commit()
			return err
		})
		res := Result{Seconds: round3(time.Since(start).Seconds()), ValueBytes: valueBytes}
		fill(&res, lat, errs)
		return res, err
	})
	if err != nil {
		return err
	}
	if cfg.Gets > 0 {
		err = phase("etcd-get", func() (Result, error) {
			start := time.Now()
			lat, errs, err := parallel(ctx, cfg.Gets, cfg.Writers, nil, func(ctx context.Context, i int) error {
				_, err := cfg.Etcd.Get(ctx, key(i%cfg.Pods))
				return err
			})
			res := Result{Seconds: round3(time.Since(start).Seconds())}
			fill(&res, lat, errs)
			return res, err
		})
		if err != nil {
			return err
		}
	}
	if cfg.ListRepeats == 0 {
		return nil
	}
	return phase("etcd-range", func() (Result, error) {
		lat := &latencies{}
		var items int
		var size int64
		start := time.Now()
		for range cfg.ListRepeats {
			t := time.Now()
			resp, err := cfg.Etcd.Get(ctx, prefix, clientv3.WithPrefix())
			if err != nil {
				return Result{}, err
			}
			lat.add(time.Since(t))
			items, size = len(resp.Kvs), 0
			for _, kv := range resp.Kvs {
				size += int64(len(kv.Key) + len(kv.Value))
			}
		}
		res := Result{Seconds: round3(time.Since(start).Seconds()), Items: items, BodyBytes: size}
		fill(&res, lat, 0)
		return res, nil
	})
}
