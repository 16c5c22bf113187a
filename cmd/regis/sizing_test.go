package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/ops/sizing"
	"github.com/regis-dev/regis/registest"
)

// TestSizingOnARunningServer: sizing on the data directory of a running
// server reads its etcd live and its /metrics (the admin kubeconfig of
// the data directory), and sees the pods written during the window.
func TestSizingOnARunningServer(t *testing.T) {
	dir := t.TempDir()
	s, err := registest.Start(t.Context(), registest.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	cs := kubernetes.NewForConfigOrDie(s.Config())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("p", i)}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
			if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil && ctx.Err() == nil {
				t.Errorf("create: %v", err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	out, err := execute(t, t.Context(), nil, "sizing", "--data-dir", dir, "--rate-window", "1s", "-o", "json")
	cancel()
	<-done
	if err != nil {
		t.Fatalf("sizing: %v\n%s", err, out)
	}
	var rep sizing.Report
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var pods sizing.ResourceSize
	for _, r := range rep.Resources {
		if r.Resource == "pods" {
			pods = r
		}
	}
	if rep.Pods < 3 || pods.Revisions < rep.Pods || pods.WritesPerS <= 0 || rep.Metrics == "" || len(rep.DB) != 1 || rep.DB[0].Size == 0 ||
		rep.Recommendation.Name != "Small" {
		t.Fatalf("sizing: %+v\npods %+v", rep, pods)
	}
	metrics, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(t.Context())
	if err != nil || !strings.Contains(string(metrics), `apiserver_storage_size_bytes{storage_cluster_id="etcd-0"}`) ||
		!strings.Contains(string(metrics), "regis_etcd_compacted_revision") {
		t.Fatalf("/metrics: %v\n%.2000s", err, metrics)
	}
	out, err = execute(t, t.Context(), nil, "sizing", "--data-dir", dir, "--history=false")
	if err != nil || !strings.Contains(out, "Recommended: Small: 3 members, 2 CPU, 8 GB memory, 50 GB SSD each") || !strings.Contains(out, "pods") {
		t.Fatalf("sizing table: %v\n%s", err, out)
	}
}
