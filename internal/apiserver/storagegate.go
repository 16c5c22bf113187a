package apiserver

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultStorageProbeInterval is how often a StorageMonitor probes.
const DefaultStorageProbeInterval = time.Second

// StorageMonitor follows the storage's health with a probe every interval
// (the etcd health check, which has its own timeout), so that while the
// storage is known to be down a request that needs it is refused at once
// with 503 and Retry-After instead of waiting out its timeout. Run it
// (its owner stops it with ctx); until its first probe fails, and when
// never run, it refuses nothing.
type StorageMonitor struct {
	probe    func(context.Context) error
	interval time.Duration
	down     atomic.Bool
}

// NewStorageMonitor returns a monitor calling probe every interval
// (DefaultStorageProbeInterval when 0).
func NewStorageMonitor(probe func(context.Context) error, interval time.Duration) *StorageMonitor {
	if interval <= 0 {
		interval = DefaultStorageProbeInterval
	}
	return &StorageMonitor{probe: probe, interval: interval}
}

// Run probes until ctx ends; it returns nil then.
func (m *StorageMonitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.down.Store(m.probe(ctx) != nil && ctx.Err() == nil)
		select {
		case <-ctx.Done():
			m.down.Store(false)
			return nil
		case <-t.C:
		}
	}
}

// errStorageUnavailable is the answer while the storage is known down.
func errStorageUnavailable() error {
	err := apierrors.NewServiceUnavailable("etcd is unavailable: the storage did not answer its last health check; retry later")
	err.ErrStatus.Details = &metav1.StatusDetails{RetryAfterSeconds: 1}
	return err
}

// refuseWhileDown answers a request that needs the storage with 503 while
// the monitor knows it is down. Watches and reads at resourceVersion "0"
// are served from the watch caches, which need no etcd, and go on.
func (s *Server) refuseWhileDown(r *http.Request, info requestInfo) error {
	m := s.cfg.StorageMonitor
	if m == nil || !info.resourceRequest || !m.down.Load() {
		return nil
	}
	switch info.verb {
	case "watch":
		return nil
	case "get", "list":
		if r.URL.Query().Get("resourceVersion") == "0" {
			return nil
		}
	}
	return errStorageUnavailable()
}
