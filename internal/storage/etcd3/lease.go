package etcd3

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// LeaseConfig tunes how objects with a TTL share etcd leases.
type LeaseConfig struct {
	// ReuseDurationSeconds caps how much longer than its TTL an object may
	// live because it shares a lease (upstream's --lease-reuse-duration-seconds, 60).
	ReuseDurationSeconds int64
	// MaxObjectCount caps the objects attached to one lease (1000).
	MaxObjectCount int64
}

// DefaultLeaseConfig is upstream's default.
func DefaultLeaseConfig() LeaseConfig {
	return LeaseConfig{ReuseDurationSeconds: 60, MaxObjectCount: 1000}
}

// leaseManager hands out leases for TTL writes, reusing the previous lease
// for objects created close in time, as kube-apiserver does: a lease granted
// for ttl t lives t + min(5% of t, ReuseDuration) and is reused while it
// outlives the new object's TTL by less than that margin.
type leaseManager struct {
	lease  clientv3.Lease
	config LeaseConfig
	counts prometheus.Histogram // objects per lease, observed when a lease is replaced

	mu         sync.Mutex
	prevID     clientv3.LeaseID
	prevExpiry time.Time
	attached   int64
}

func newLeaseManager(lease clientv3.Lease, config LeaseConfig, counts prometheus.Histogram) *leaseManager {
	if config.MaxObjectCount <= 0 {
		config.MaxObjectCount = DefaultLeaseConfig().MaxObjectCount
	}
	return &leaseManager{lease: lease, config: config, counts: counts}
}

// GetLease returns a lease that expires no sooner than ttl seconds from now.
func (l *leaseManager) GetLease(ctx context.Context, ttl int64) (clientv3.LeaseID, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	reuse := int64(0.05 * float64(ttl))
	if reuse > l.config.ReuseDurationSeconds {
		reuse = l.config.ReuseDurationSeconds
	}
	valid := now.Add(time.Duration(ttl) * time.Second).Before(l.prevExpiry)
	sufficient := now.Add(time.Duration(ttl+reuse) * time.Second).After(l.prevExpiry)
	l.attached++
	if valid && sufficient && l.attached <= l.config.MaxObjectCount {
		return l.prevID, nil
	}
	ttl += reuse
	resp, err := l.lease.Grant(ctx, ttl)
	if err != nil {
		return 0, err
	}
	l.counts.Observe(float64(l.attached))
	l.prevID = resp.ID
	l.prevExpiry = now.Add(time.Duration(ttl) * time.Second)
	l.attached = 1
	return resp.ID, nil
}
