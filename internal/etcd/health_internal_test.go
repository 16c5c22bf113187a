package etcd

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// fakeKV answers Gets with err, after waiting for release if it is set.
type fakeKV struct {
	mu      sync.Mutex
	err     error
	keys    []string
	release chan struct{}
}

func (f *fakeKV) Get(ctx context.Context, key string, _ ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	f.mu.Lock()
	f.keys = append(f.keys, key)
	err, release := f.err, f.release
	f.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &clientv3.GetResponse{}, err
}

func (f *fakeKV) set(err error, release chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err, f.release = err, release
}

func (f *fakeKV) probes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.keys)
}

func TestHealthCheckRateLimitsProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kv := &fakeKV{}
		h := newHealthCheck(kv, "/registry", 2*time.Second)
		if err := h.Check(t.Context()); err != nil || kv.probes() != 1 {
			t.Fatalf("first check: err %v after %d probes, want nil after 1", err, kv.probes())
		}
		if kv.keys[0] != "/registry/health" {
			t.Errorf("probed %q, want /registry/health", kv.keys[0])
		}

		boom := errors.New("boom")
		kv.set(boom, nil)
		time.Sleep(999 * time.Millisecond)
		if err := h.Check(t.Context()); err != nil || kv.probes() != 1 {
			t.Errorf("check within timeout/2: err %v after %d probes, want the cached nil after 1", err, kv.probes())
		}
		time.Sleep(time.Millisecond)
		err := h.Check(t.Context())
		if !errors.Is(err, boom) || err.Error() != "error getting data from etcd: boom" || kv.probes() != 2 {
			t.Errorf("check after timeout/2: err %v after %d probes, want %q after 2", err, kv.probes(), "error getting data from etcd: boom")
		}
		if err := h.Check(t.Context()); !errors.Is(err, boom) || kv.probes() != 2 {
			t.Errorf("check right after a failure: err %v after %d probes, want the cached failure after 2", err, kv.probes())
		}
	})
}

func TestHealthCheckWhileFirstProbeRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kv := &fakeKV{}
		release := make(chan struct{})
		kv.set(nil, release)
		h := newHealthCheck(kv, "", 0)
		if h.Key() != "/health" {
			t.Errorf("Key() = %q, want /health", h.Key())
		}
		done := make(chan error)
		go func() { done <- h.Check(t.Context()) }()
		synctest.Wait()
		if err := h.Check(t.Context()); err == nil || err.Error() != "etcd client connection not yet established" {
			t.Errorf("check during the first probe: %v, want %q", err, "etcd client connection not yet established")
		}
		close(release)
		if err := <-done; err != nil {
			t.Errorf("first probe: %v", err)
		}
		if err := h.Check(t.Context()); err != nil {
			t.Errorf("check after the first probe: %v", err)
		}
	})
}

func TestHealthCheckTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kv := &fakeKV{}
		kv.set(nil, make(chan struct{})) // never answers
		h := newHealthCheck(kv, "/registry", 2*time.Second)
		ctx, cancel := context.WithCancel(t.Context())
		cancel() // a caller that gave up must not decide the result for others
		start := time.Now()
		err := h.Check(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("check of a silent etcd: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("gave up after %v, want 2s", d)
		}
	})
}
