package maint_test

import (
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/ops/maint"
)

// TestCompactRevision: 0 before any compaction, the compacted revision
// after one.
func TestCompactRevision(t *testing.T) {
	_, c := startCluster(t, 1)
	if rev, err := maint.CompactRevision(t.Context(), c); err != nil || rev != 0 {
		t.Fatalf("before: %d, %v", rev, err)
	}
	var last int64
	for range 5 {
		resp, err := c.Put(t.Context(), "/k", "v")
		if err != nil {
			t.Fatal(err)
		}
		last = resp.Header.Revision
	}
	if _, err := c.Compact(t.Context(), last-1, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	if rev, err := maint.CompactRevision(t.Context(), c); err != nil || rev != last-1 {
		t.Fatalf("after compacting at %d: %d, %v", last-1, rev, err)
	}
}
