package etcd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
)

func TestHealthCheckAgainstEtcd(t *testing.T) {
	h := etcd.NewHealthCheck(shared.Client(t), "/registry", 0)
	if err := h.Check(t.Context()); err != nil {
		t.Fatalf("check of a running etcd: %v", err)
	}

	srv, err := etcdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	h = etcd.NewHealthCheck(c, "/registry", 500*time.Millisecond)
	if err := h.Check(t.Context()); err != nil {
		t.Fatalf("check before stopping etcd: %v", err)
	}
	srv.Stop()
	time.Sleep(250 * time.Millisecond) // timeout/2
	err = h.Check(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "error getting data from etcd: ") {
		t.Errorf("check of a stopped etcd: %v, want \"error getting data from etcd: ...\"", err)
	}
}
