package server

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestDefragPolicy: past the threshold, the embedded member is
// defragmented (under the cluster's lock) and the metrics say so; below
// it, nothing happens.
func TestDefragPolicy(t *testing.T) {
	o := DefaultOptions()
	o.DataDir, o.EtcdUnsafeNoFsync, o.EtcdCompactionInterval = t.TempDir(), true, 0
	o.EmbeddedEtcdClientPort, o.EmbeddedEtcdPeerPort = 0, 0
	o.Logger = slog.New(slog.DiscardHandler)
	b, err := Start(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reg := prometheus.NewRegistry()
	m, err := newDefragMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.defragOnce(t.Context(), 0.3, m); err != nil || testutil.ToFloat64(m.total) != 0 {
		t.Fatalf("an unfragmented member: %v, %v defrags", err, testutil.ToFloat64(m.total))
	}
	val := strings.Repeat("x", 512<<10)
	for i := range 80 {
		if _, err := b.Client.Put(t.Context(), fmt.Sprint("/frag/", i), val); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := b.Client.Delete(t.Context(), "/frag/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.Compact(t.Context(), resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	before, err := b.Client.Status(t.Context(), b.Embedded.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.defragOnce(t.Context(), 0.3, m); err != nil {
		t.Fatal(err)
	}
	after, err := b.Client.Status(t.Context(), b.Embedded.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if testutil.ToFloat64(m.total) != 1 || after.DbSize >= before.DbSize || testutil.ToFloat64(m.freed) <= 0 {
		t.Fatalf("defrag: %v defrags, %d → %d bytes", testutil.ToFloat64(m.total), before.DbSize, after.DbSize)
	}
}
