package fault_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

// TestEtcdUnreachableAtStart starts regis before its etcd cluster: it logs
// that etcd is not reachable, retries, and is ready once the cluster is.
func TestEtcdUnreachableAtStart(t *testing.T) {
	c := cluster.NewCluster(t, 3)
	r := cluster.NewRegis(t, "regis", filepath.Join(t.TempDir(), "data"), c.EtcdFlags()...)
	r.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for !r.LogContains("etcd not reachable: retrying") {
		if !r.Running() {
			t.Fatalf("regis exited while etcd is down: %s", r.Tail(2048))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line saying etcd is not reachable after 30s: %s", r.Tail(2048))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a retry or two
	c.Start(t)
	up := time.Now()
	r.WaitReady(t, 60*time.Second)
	t.Logf("ready %v after the cluster was up", time.Since(up).Round(time.Millisecond))
	if _, err := r.Readyz(); err != nil {
		t.Fatal(err)
	}
}
