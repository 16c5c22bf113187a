package server

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

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
	// bbolt keeps freed pages pending until a later write transaction
	// commits with no older reader: write a little, then wait for the
	// status to count them as unused (bounded).
	var before *clientv3.StatusResponse
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := b.Client.Put(t.Context(), "/frag-tick", "x"); err != nil {
			t.Fatal(err)
		}
		if before, err = b.Client.Status(t.Context(), b.Endpoints[0]); err != nil {
			t.Fatal(err)
		}
		free := before.DbSize - before.DbSizeInUse
		if float64(free)/float64(before.DbSize) >= 0.3 && free >= defragMinFree || time.Now().After(deadline) {
			break
		}
	}
	if err := b.defragOnce(t.Context(), 0.3, m); err != nil {
		t.Fatal(err)
	}
	after, err := b.Client.Status(t.Context(), b.Endpoints[0])
	if err != nil {
		t.Fatal(err)
	}
	if testutil.ToFloat64(m.total) != 1 || after.DbSize >= before.DbSize || testutil.ToFloat64(m.freed) <= 0 {
		t.Fatalf("defrag: %v defrags, %d → %d bytes", testutil.ToFloat64(m.total), before.DbSize, after.DbSize)
	}
}
