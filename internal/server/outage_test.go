package server_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/server"
)

// Issue 8, defect 8: while etcd is down, requests that need it are
// answered at once (503 with Retry-After, once the health check knows;
// 504 with Retry-After for those already waiting), /readyz answers within
// its timeout, and everything works again once etcd is back.
func TestEtcdOutage(t *testing.T) {
	etcdDir := t.TempDir()
	cfg := etcd.EmbeddedConfig{DataDir: etcdDir, ClientURL: "http://127.0.0.1:" + strconv.Itoa(freePort(t)), PeerURL: "http://127.0.0.1:" + strconv.Itoa(freePort(t)), UnsafeNoFsync: true}
	member, err := etcd.StartEmbedded(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { member.Close() }()
	f := startFull(t, func(o *server.Options) { o.EtcdServers = []string{cfg.ClientURL} })
	rc := &rest.Config{Host: f.info.URL, QPS: -1, TLSClientConfig: rest.TLSClientConfig{
		CAData: f.info.CAData, CertData: f.info.ClientCertData, KeyData: f.info.ClientKeyData}}
	cs := kubernetes.NewForConfigOrDie(rc)
	cms := cs.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	member.Close()
	// Within a few probes, every write is refused at once.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		start := time.Now()
		// client-go retries a 503 with Retry-After (10 times): once is
		// enough here.
		err := cs.CoreV1().RESTClient().Post().Namespace("default").Resource("configmaps").MaxRetries(0).
			Body(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "during-"}}).Do(ctx).Error()
		cancel()
		var st apierrors.APIStatus
		if !errors.As(err, &st) {
			t.Fatalf("a write while etcd is down: %v, want an API status", err)
		}
		code := st.Status().Code
		if code != http.StatusServiceUnavailable && code != http.StatusGatewayTimeout {
			t.Fatalf("a write while etcd is down: %d %v, want 503 or 504", code, err)
		}
		if code == http.StatusServiceUnavailable {
			if took := time.Since(start); took > time.Second {
				t.Fatalf("refused after %v, want at once", took)
			}
			if d := st.Status().Details; d == nil || d.RetryAfterSeconds == 0 {
				t.Fatalf("no Retry-After: %+v", st.Status())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes still wait out their timeout 20s into the outage")
		}
	}
	start := time.Now()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: f.tlsConfig(t, nil)}}
	resp, err := hc.Get(f.info.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || time.Since(start) > 6*time.Second {
		t.Fatalf("/readyz: %d after %v", resp.StatusCode, time.Since(start))
	}

	if member, err = etcd.StartEmbedded(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		_, err := cms.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "after-"}}, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes still fail 30s after etcd is back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := cms.Get(t.Context(), "before", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}
