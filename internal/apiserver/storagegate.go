package apiserver

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultStorageProbeInterval is how often a StorageMonitor probes.
const DefaultStorageProbeInterval = time.Second

// StorageMonitor follows the storage's health with a probe every interval
// (the etcd health check, which has its own timeout). While the storage is
// known to be down, a request that needs it is refused at once with 503
// and Retry-After instead of waiting out its timeout, and when a probe
// finds it down, the requests waiting on it are ended the same way. Run
// it (its owner stops it with ctx); until a probe fails, and when never
// run, it refuses nothing.
type StorageMonitor struct {
	probe    func(context.Context) error
	interval time.Duration

	mu     sync.Mutex
	down   bool                    // guarded by mu
	epoch  context.Context         // ends when the storage is found down; guarded by mu
	cancel context.CancelCauseFunc // ends epoch; guarded by mu
}

// errStorageDown is the cause of a request's context ended by a monitor.
var errStorageDown = errors.New("etcd is unavailable")

// NewStorageMonitor returns a monitor calling probe every interval
// (DefaultStorageProbeInterval when 0).
func NewStorageMonitor(probe func(context.Context) error, interval time.Duration) *StorageMonitor {
	if interval <= 0 {
		interval = DefaultStorageProbeInterval
	}
	m := &StorageMonitor{probe: probe, interval: interval}
	m.epoch, m.cancel = context.WithCancelCause(context.Background())
	return m
}

// Run probes until ctx ends; it returns nil then.
func (m *StorageMonitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		err := m.probe(ctx)
		if ctx.Err() != nil {
			m.set(true)
			return nil
		}
		m.set(err == nil)
		select {
		case <-ctx.Done():
			m.set(true)
			return nil
		case <-t.C:
		}
	}
}

func (m *StorageMonitor) set(up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case up && m.down:
		m.epoch, m.cancel = context.WithCancelCause(context.Background())
	case !up && !m.down:
		m.cancel(errStorageDown)
	}
	m.down = !up
}

// bind returns ctx ended (cause errStorageDown) when a probe finds the
// storage down, and a func that releases it; or, while the storage is
// known down, the answer to give.
func (m *StorageMonitor) bind(ctx context.Context) (context.Context, func(), error) {
	m.mu.Lock()
	down, epoch := m.down, m.epoch
	m.mu.Unlock()
	if down {
		return nil, nil, errStorageUnavailable()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(epoch, func() { cancel(errStorageDown) })
	return ctx, func() { stop(); cancel(nil) }, nil
}

// errStorageUnavailable is the answer while the storage is known down.
func errStorageUnavailable() error {
	err := apierrors.NewServiceUnavailable("etcd is unavailable: the storage did not answer its last health check; retry later")
	err.ErrStatus.Details = &metav1.StatusDetails{RetryAfterSeconds: 1}
	return err
}

// needsStorage tells the requests a StorageMonitor gates: resource
// requests but watches and reads at resourceVersion "0", which the watch
// caches serve without etcd.
func needsStorage(r *http.Request, info requestInfo) bool {
	if !info.resourceRequest {
		return false
	}
	switch info.verb {
	case "watch":
		return false
	case "get", "list":
		return query(r).Get("resourceVersion") != "0"
	}
	return true
}
