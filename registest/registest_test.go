package registest_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/regis-dev/regis/registest"
)

// ExampleStart shows a controller-style test: start regis, create an
// object, and wait for an informer to see it.
func ExampleStart() {
	ctx := context.Background()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Stop()
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	_, _ = cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"mode": "fast"}}, metav1.CreateOptions{})
	// Output:
}

func TestStartServeStop(t *testing.T) {
	before := runtime.NumGoroutine()
	start := time.Now()
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ready in %v at %s", time.Since(start), srv.URL())
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	ctx := t.Context()
	factory := informers.NewSharedInformerFactory(cs, 0)
	inf := factory.Core().V1().ConfigMaps().Informer()
	stop := make(chan struct{})
	factory.Start(stop)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("no sync")
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok, _ := inf.GetStore().GetByKey("default/x"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("informer did not see the config map")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Anonymous requests: refused by RBAC (403), except health and
	// version (system:public-info-viewer), as kube-apiserver with its
	// default --anonymous-auth.
	anon := rest.CopyConfig(srv.Config())
	anon.CertData, anon.KeyData = nil, nil
	acs := kubernetes.NewForConfigOrDie(anon)
	if _, err := acs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) ||
		err.Error() != `namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope` {
		t.Errorf("anonymous list: %v", err)
	}
	if _, err := acs.Discovery().ServerVersion(); err != nil {
		t.Errorf("anonymous /version: %v", err)
	}
	hc, _ := rest.HTTPClientFor(anon)
	resp, err := hc.Get(srv.URL() + "/readyz?verbose")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %d", resp.StatusCode)
	}
	if _, err := os.Stat(srv.Kubeconfig()); err != nil {
		t.Errorf("kubeconfig: %v", err)
	}
	// /metrics has the store's, the watch caches' and the API's families.
	metrics, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, family := range []string{"etcd_request_duration_seconds", "apiserver_watch_cache_events_received_total", "apiserver_request_total"} {
		if !strings.Contains(string(metrics), family) {
			t.Errorf("/metrics lacks %s", family)
		}
	}

	close(stop)
	factory.Shutdown()
	hc.CloseIdleConnections()
	addr := strings.TrimPrefix(srv.URL(), "https://")
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.Kubeconfig()); !os.IsNotExist(err) {
		t.Errorf("files left behind: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("port %s still open", addr)
	}
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left (had %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
