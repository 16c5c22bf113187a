package fault_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

// An embedded store moved by `regis migrate` onto a 3-member cluster:
// `regis serve --etcd-servers` serves the same objects, with
// resourceVersions above every old one; a non-empty target is refused.
func TestMigrateEmbeddedToCluster(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	r := cluster.StartRegis(t, "regis", dataDir)
	cs := r.Clientset(t)
	ns := newNamespace(t, cs)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	for i := range 20 {
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm" + strconv.Itoa(i)},
			Data: map[string]string{"v": strconv.Itoa(i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldRV, _ := strconv.ParseInt(before.ResourceVersion, 10, 64)
	r.Stop(30 * time.Second)

	c := cluster.StartCluster(t, 3)
	flags := c.EtcdFlags() // --etcd-servers URLs --etcd-cafile ...: the target's TLS
	args := append([]string{"migrate", "--data-dir", dataDir, "--to-etcd-servers", flags[1], "-o", "json"}, flags[2:]...)
	start := time.Now()
	out, err := exec.CommandContext(ctx, cluster.Binary(t), args...).Output()
	if err != nil {
		t.Fatalf("regis migrate: %v: %s", err, out)
	}
	var res struct{ Keys, SourceRevision, TargetRevision int64 }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("migrated %d keys in %v: source revision %d, target %d", res.Keys, time.Since(start).Round(time.Millisecond), res.SourceRevision, res.TargetRevision)

	r2 := cluster.StartRegis(t, "regis2", filepath.Join(t.TempDir(), "data2"), c.EtcdFlags()...)
	after, err := r2.Clientset(t).CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Items) != len(before.Items) {
		t.Fatalf("%d configmaps after, %d before", len(after.Items), len(before.Items))
	}
	for i, cm := range after.Items {
		rv, _ := strconv.ParseInt(cm.ResourceVersion, 10, 64)
		if cm.Name != before.Items[i].Name || cm.Data["v"] != before.Items[i].Data["v"] || string(cm.UID) != string(before.Items[i].UID) || rv <= oldRV {
			t.Errorf("%s (rv %d, uid %s) after, %s (uid %s) before, old list rv %d", cm.Name, rv, cm.UID, before.Items[i].Name, before.Items[i].UID, oldRV)
		}
	}
	// A second migration onto the now non-empty cluster is refused.
	out, err = exec.CommandContext(ctx, cluster.Binary(t), args...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "has keys") {
		t.Errorf("a migration onto a non-empty target: %v: %s", err, out)
	}
}
