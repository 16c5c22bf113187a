package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.RemoveBinary()
	os.Exit(code)
}

// A 3-member cluster of `regis etcd` processes over mutual TLS: a write
// through one member is read through another, one member leads, and a
// `regis serve` on the cluster serves the API.
func TestClusterOfProcesses(t *testing.T) {
	c := cluster.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := c.Client(t).Put(ctx, "/k", "v"); err != nil {
		t.Fatal(err)
	}
	l := c.Leader(t, 20*time.Second)
	t.Logf("leader %s", l.Name)

	r := cluster.StartRegis(t, "regis", filepath.Join(t.TempDir(), "data"), c.EtcdFlags()...)
	cs := r.Clientset(t)
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Client(t).Get(ctx, "/registry/configmaps/default/x")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("configmap in etcd: %v %v", resp, err)
	}
}
