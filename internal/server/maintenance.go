package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/ops/maint"
	"github.com/regis-dev/regis/internal/ops/snapshot"
)

// EmbeddedSnapshotDir is where the scheduled snapshots of a data
// directory's embedded etcd go by default.
func EmbeddedSnapshotDir(dataDir string) string { return filepath.Join(dataDir, "snapshots") }

// startMaintenance registers apiserver_storage_size_bytes on reg and
// starts, for the embedded etcd, the scheduled snapshots
// (EtcdSnapshotInterval) and the defragmentation policy
// (EtcdDefragThreshold), registering their metrics too; its
// goroutines are wg's and end with ctx. With --etcd-servers it starts
// nothing: the cluster's operators back it up and maintain it.
func (b *Backend) startMaintenance(ctx context.Context, o Options, wg *sync.WaitGroup, reg prometheus.Registerer) error {
	if err := reg.Register(newStorageCollector(b)); err != nil {
		return err
	}
	if b.Embedded == nil {
		return nil
	}
	if o.EtcdSnapshotInterval > 0 {
		m := snapshot.NewMetrics()
		for _, c := range m.Collectors() {
			if err := reg.Register(c); err != nil {
				return err
			}
		}
		dir := o.EtcdSnapshotDir
		if dir == "" {
			dir = EmbeddedSnapshotDir(o.DataDir)
		}
		s := &snapshot.Scheduler{Client: b.Client, Dir: dir, Interval: o.EtcdSnapshotInterval, Retention: o.EtcdSnapshotRetention, Log: b.log, Metrics: m}
		wg.Go(func() { _ = s.Run(ctx) })
	}
	if o.EtcdDefragThreshold > 0 {
		m, err := newDefragMetrics(reg)
		if err != nil {
			return err
		}
		wg.Go(func() { b.defragPolicy(ctx, o.EtcdDefragThreshold, m) })
	}
	return nil
}

// alarmCheckEvery bounds how often the etcd-alarms check asks etcd.
const alarmCheckEvery = 2 * time.Second

// alarmCheck is /readyz's etcd-alarms check: it fails while an alarm is
// raised on etcd (NOSPACE: every write fails with "database space
// exceeded"), and logs why once each time the alarms change. Reads still
// work; the check tells load balancers and operators that writes do not.
func (b *Backend) alarmCheck() func(context.Context) error {
	var mu sync.Mutex
	var next time.Time
	var last error
	var lastText string
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if time.Now().Before(next) {
			return last
		}
		next = time.Now().Add(alarmCheckEvery)
		cctx, cancel := context.WithTimeout(ctx, etcd.DefaultHealthTimeout)
		defer cancel()
		alarms, err := maint.Alarms(cctx, b.Client)
		if err != nil {
			return last // the etcd check reports an etcd that does not answer
		}
		var parts []string
		for _, a := range alarms {
			parts = append(parts, a.Alarm+" on member "+a.Member+" ("+a.MemberID+")")
		}
		text := strings.Join(parts, ", ")
		if text != lastText {
			if text != "" {
				b.log.Error("etcd alarm raised: writes fail until it is cleared (for NOSPACE: compact, regis defrag, then regis alarm disarm)", "alarms", text)
			} else {
				b.log.Info("etcd alarms cleared")
			}
			lastText = text
		}
		last = nil
		if text != "" {
			last = fmt.Errorf("etcd alarm: %s", text)
		}
		return last
	}
}

// Defragmentation policy of the embedded member (--etcd-defrag-threshold).
const (
	defragCheckEvery = time.Minute
	// defragMinFree: below this many free bytes a defragmentation is not
	// worth blocking the member for.
	defragMinFree = 16 << 20
	// defragLockKey, under the etcd prefix, makes the servers of one
	// cluster defragment one member at a time.
	defragLockKey = "/regis-defrag-lock"
)

// defragMetrics are the policy's figures.
type defragMetrics struct {
	total    prometheus.Counter
	last     prometheus.Gauge
	freed    prometheus.Counter
	duration prometheus.Histogram
}

func newDefragMetrics(reg prometheus.Registerer) (*defragMetrics, error) {
	m := &defragMetrics{
		total: prometheus.NewCounter(prometheus.CounterOpts{Name: "regis_etcd_defrag_total",
			Help: "Defragmentations of the embedded etcd member by the --etcd-defrag-threshold policy."}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "regis_etcd_defrag_last_timestamp_seconds",
			Help: "Unix time of the last defragmentation of the embedded etcd member."}),
		freed: prometheus.NewCounter(prometheus.CounterOpts{Name: "regis_etcd_defrag_freed_bytes_total",
			Help: "Bytes the defragmentations of the embedded etcd member gave back."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "regis_etcd_defrag_duration_seconds",
			Help: "Time the embedded etcd member was blocked by a defragmentation.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}),
	}
	for _, c := range []prometheus.Collector{m.total, m.last, m.freed, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// defragPolicy defragments the embedded member whenever its free share
// passes threshold, holding an etcd lock so that no two members of a
// cluster are defragmented at once. It runs until ctx ends.
func (b *Backend) defragPolicy(ctx context.Context, threshold float64, m *defragMetrics) {
	t := time.NewTicker(defragCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := b.defragOnce(ctx, threshold, m); err != nil && ctx.Err() == nil {
			b.log.Warn("embedded etcd defragmentation", "error", err)
		}
	}
}

func (b *Backend) defragOnce(ctx context.Context, threshold float64, m *defragMetrics) error {
	ep := b.Embedded.Endpoint
	if b.local {
		ep = b.Embedded.LocalEndpoint // the client has no TLS for the https URL
	}
	sctx, cancel := context.WithTimeout(ctx, maint.StatusTimeout)
	st, err := b.Client.Status(sctx, ep)
	cancel()
	if err != nil {
		return err
	}
	free := st.DbSize - st.DbSizeInUse
	if st.DbSize == 0 || float64(free)/float64(st.DbSize) < threshold || free < defragMinFree {
		return nil
	}
	sess, err := concurrency.NewSession(b.Client, concurrency.WithTTL(60), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	mu := concurrency.NewMutex(sess, b.Prefix+defragLockKey)
	if err := mu.TryLock(ctx); err != nil {
		if errors.Is(err, concurrency.ErrLocked) {
			return nil // another member is being defragmented: next round
		}
		return err
	}
	defer mu.Unlock(context.WithoutCancel(ctx))
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, maint.DefaultDefragTimeout)
	_, err = b.Client.Defragment(dctx, ep)
	cancel()
	if err != nil {
		return err
	}
	took := time.Since(start)
	after := st.DbSize
	sctx, cancel = context.WithTimeout(ctx, maint.StatusTimeout)
	if st2, err := b.Client.Status(sctx, ep); err == nil {
		after = st2.DbSize
	}
	cancel()
	m.total.Inc()
	m.last.Set(float64(time.Now().Unix()))
	m.freed.Add(float64(max(0, st.DbSize-after)))
	m.duration.Observe(took.Seconds())
	b.log.Info("embedded etcd defragmented", "before", st.DbSize, "after", after, "took", took)
	return nil
}
