package server

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/regis-dev/regis/internal/ops/snapshot"
)

// EmbeddedSnapshotDir is where the scheduled snapshots of a data
// directory's embedded etcd go by default.
func EmbeddedSnapshotDir(dataDir string) string { return filepath.Join(dataDir, "snapshots") }

// startMaintenance starts, for the embedded etcd, the scheduled snapshots
// (EtcdSnapshotInterval) and registers their metrics on reg; its
// goroutines are wg's and end with ctx. With --etcd-servers it does
// nothing: the cluster's operators back it up.
func (b *Backend) startMaintenance(ctx context.Context, o Options, wg *sync.WaitGroup, reg prometheus.Registerer) error {
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
	return nil
}
