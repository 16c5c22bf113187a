package snapshot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// k3s's defaults for its etcd snapshots: twice a day, keep five.
const (
	DefaultInterval  = 12 * time.Hour
	DefaultRetention = 5
)

// FilePrefix starts the name of every scheduled snapshot; retention only
// ever removes files so named.
const FilePrefix = "regis-snapshot-"

// Metrics are the scheduler's figures.
type Metrics struct {
	LastSuccess *prometheus.GaugeVec
	LastSize    prometheus.Gauge
	Duration    prometheus.Histogram
	Failures    prometheus.Counter
}

// NewMetrics returns the snapshot metrics; Collectors registers them.
func NewMetrics() *Metrics {
	return &Metrics{
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "regis_etcd_snapshot_last_success_timestamp_seconds",
			Help: "Unix time of the last successful scheduled snapshot of the embedded etcd.",
		}, []string{"dir"}),
		LastSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "regis_etcd_snapshot_last_size_bytes",
			Help: "Size of the last successful scheduled snapshot of the embedded etcd.",
		}),
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "regis_etcd_snapshot_duration_seconds",
			Help:    "Time taken by scheduled snapshots of the embedded etcd.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		Failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "regis_etcd_snapshot_failures_total",
			Help: "Scheduled snapshots of the embedded etcd that failed.",
		}),
	}
}

// Collectors returns the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.LastSuccess, m.LastSize, m.Duration, m.Failures}
}

// Scheduler saves a snapshot every Interval into Dir and keeps the
// Retention newest.
type Scheduler struct {
	Client    *clientv3.Client
	Dir       string
	Interval  time.Duration
	Retention int
	Log       *slog.Logger
	Metrics   *Metrics // nil: none
	// Now names the files; time.Now when nil.
	Now func() time.Time
}

// Run takes snapshots until ctx ends. Its owner runs it in a goroutine.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Interval <= 0 {
		return nil
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Once(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("scheduled etcd snapshot failed", "dir", s.Dir, "error", err)
			}
		}
	}
}

// Once takes one snapshot and applies the retention.
func (s *Scheduler) Once(ctx context.Context) (*Info, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, err
	}
	name := FilePrefix + now().UTC().Format("20060102T150405.000Z") + ".db"
	info, err := Save(ctx, s.Client, filepath.Join(s.Dir, name), SaveOptions{})
	if err != nil {
		if s.Metrics != nil {
			s.Metrics.Failures.Inc()
		}
		return nil, err
	}
	if s.Metrics != nil {
		s.Metrics.LastSuccess.WithLabelValues(s.Dir).Set(float64(now().Unix()))
		s.Metrics.LastSize.Set(float64(info.Size))
		s.Metrics.Duration.Observe(info.Took.Seconds())
	}
	s.Log.Info("etcd snapshot saved", "path", info.Path, "size", info.Size, "revision", info.Revision, "took", info.Took)
	return info, s.prune()
}

// prune removes the oldest scheduled snapshots past Retention.
func (s *Scheduler) prune() error {
	if s.Retention <= 0 {
		return nil
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, FilePrefix) && strings.HasSuffix(n, ".db") && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names) // the names sort by time
	var errs []string
	for _, n := range names[:max(0, len(names)-s.Retention)] {
		if err := os.Remove(filepath.Join(s.Dir, n)); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("snapshot retention: %s", strings.Join(errs, "; "))
	}
	return nil
}
