package registest_test

import (
	"bufio"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/registest"
)

// A watch over HTTP/2 (what client-go negotiates over TLS) streams events
// as they happen.
func TestWatchOverHTTP2(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	hc, err := rest.HTTPClientFor(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(srv.URL() + "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=false")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("watch served over %s, want HTTP/2", resp.Proto)
	}
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = cs.CoreV1().ConfigMaps("default").Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "h2"}}, metav1.CreateOptions{})
	}()
	lines := bufio.NewScanner(resp.Body)
	deadline := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for lines.Scan() {
		var ev struct {
			Type   string
			Object corev1.ConfigMap
		}
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
			t.Fatalf("event %q: %v", lines.Text(), err)
		}
		if ev.Type == "ADDED" && ev.Object.Name == "h2" {
			return
		}
	}
	t.Fatalf("no ADDED event for h2 over HTTP/2: %v", lines.Err())
}
