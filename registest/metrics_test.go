package registest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

// Two servers in one process count into their own metrics: what one
// stores does not show in the other's /metrics.
func TestTwoServersHaveTheirOwnMetrics(t *testing.T) {
	ctx := t.Context()
	var servers [2]*registest.Server
	for i := range servers {
		srv, err := registest.Start(ctx, registest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := srv.Stop(); err != nil {
				t.Error(err)
			}
		})
		servers[i] = srv
	}
	busy, idle := kubernetes.NewForConfigOrDie(servers[0].Config()), kubernetes.NewForConfigOrDie(servers[1].Config())
	const n = 5
	for i := range n {
		// Secrets: each server's own controllers create config maps
		// (kube-root-ca.crt) and service accounts in every namespace.
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("only-on-busy-%d", i)}}
		if _, err := busy.CoreV1().Secrets("default").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	creates := map[string]string{"operation": "create", "group": "", "resource": "secrets"}
	if got := metricValue(t, ctx, busy, "etcd_requests_total", creates); got < n {
		t.Errorf("busy server: %v secret creates in etcd_requests_total, want at least %d", got, n)
	}
	if got := metricValue(t, ctx, idle, "etcd_requests_total", creates); got != 0 {
		t.Errorf("idle server: %v secret creates in etcd_requests_total, want 0 (the busy server's)", got)
	}
	objects := map[string]string{"resource": "secrets"}
	if b, i := metricValue(t, ctx, busy, "apiserver_storage_objects", objects), metricValue(t, ctx, idle, "apiserver_storage_objects", objects); b < i+n {
		t.Errorf("apiserver_storage_objects of secrets: busy %v, idle %v; want busy ≥ idle + %d", b, i, n)
	}
}

// metricValue returns the value of the first series of name in the
// server's /metrics with the given labels (0 when there is none).
func metricValue(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string, labels map[string]string) float64 {
	t.Helper()
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
series:
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		have := line[len(name)+1 : end]
		for k, v := range labels {
			if !strings.Contains(","+have+",", ","+k+"="+strconv.Quote(v)+",") {
				continue series
			}
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return v
	}
	return 0
}
