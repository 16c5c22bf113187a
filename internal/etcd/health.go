package etcd

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultHealthTimeout is kube-apiserver's --etcd-healthcheck-timeout and
// --etcd-readycheck-timeout default.
const DefaultHealthTimeout = 2 * time.Second

// errNotProbed is the result before the first probe, upstream's text.
var errNotProbed = errors.New("etcd client connection not yet established")

// getter is the part of clientv3.KV a health probe uses.
type getter interface {
	Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error)
}

// HealthCheck probes etcd the way kube-apiserver's etcd and etcd-readiness
// checks do (storagebackend/factory/etcd3.go): a linearizable Get of
// <prefix>/health, a key that need not exist (success means etcd answered),
// at most one probe per timeout/2, with the result of the last probe
// started returned in between. It is safe for concurrent use.
type HealthCheck struct {
	kv      getter
	key     string
	timeout time.Duration

	mu        sync.Mutex
	next      time.Time // no probe before this; guarded by mu
	lastStart time.Time // start of the probe whose result is last; guarded by mu
	last      error     // guarded by mu
}

// NewHealthCheck returns a check of the etcd behind client for the key
// prefix (--etcd-prefix, e.g. "/registry", probing "/registry/health").
// timeout bounds each probe; 0 means DefaultHealthTimeout.
func NewHealthCheck(client *clientv3.Client, prefix string, timeout time.Duration) *HealthCheck {
	return newHealthCheck(client.KV, prefix, timeout)
}

func newHealthCheck(kv getter, prefix string, timeout time.Duration) *HealthCheck {
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	return &HealthCheck{
		kv:      kv,
		key:     path.Join("/", prefix, "health"),
		timeout: timeout,
		last:    errNotProbed,
	}
}

// Key returns the etcd key the check reads.
func (h *HealthCheck) Key() string { return h.key }

// Check returns nil if etcd answered the last probe. If no probe was
// started in the last timeout/2, it probes now, bounded by the timeout but
// not by ctx's cancellation (one impatient caller must not record a failure
// for the others); otherwise it returns the result of the last probe started (or,
// while the first probe is still running, the error "etcd client
// connection not yet established"). A failed probe reads
// "error getting data from etcd: <err>".
func (h *HealthCheck) Check(ctx context.Context) error {
	h.mu.Lock()
	now := time.Now()
	if now.Before(h.next) {
		err := h.last
		h.mu.Unlock()
		return err
	}
	h.next = now.Add(h.timeout / 2)
	h.mu.Unlock()

	err := h.probe(ctx)

	h.mu.Lock()
	defer h.mu.Unlock()
	if !now.Before(h.lastStart) { // a probe started later may have finished first
		h.lastStart, h.last = now, err
	}
	return err
}

func (h *HealthCheck) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
	defer cancel()
	if _, err := h.kv.Get(ctx, h.key); err != nil {
		return fmt.Errorf("error getting data from etcd: %w", err)
	}
	return nil
}
