package server_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/server"
)

// startBench starts a whole server for a benchmark and returns an admin
// client.
func startBench(b *testing.B, edit func(*server.Options)) *kubernetes.Clientset {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DataDir, o.EtcdUnsafeNoFsync, o.EtcdCompactionInterval = b.TempDir(), true, 0
	o.Logger = slog.New(slog.DiscardHandler)
	ready := make(chan server.Info, 1)
	o.Listener, o.Ready = ln, func(i server.Info) { ready <- i }
	if edit != nil {
		edit(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, o) }()
	b.Cleanup(func() { cancel(); <-done })
	var info server.Info
	select {
	case info = <-ready:
	case err := <-done:
		b.Fatalf("server stopped while starting: %v", err)
	case <-time.After(60 * time.Second):
		b.Fatal("server not ready in 60s")
	}
	return kubernetes.NewForConfigOrDie(&rest.Config{Host: info.URL, QPS: -1,
		TLSClientConfig: rest.TLSClientConfig{CAData: info.CAData, CertData: info.ClientCertData, KeyData: info.ClientKeyData}})
}

// BenchmarkGetAuditedPaired: a GET of a configmap from a server auditing
// every request at level Metadata to a file (blocking mode) and from one
// without auditing, alternating request by request; ratio is the cost
// of auditing.
func BenchmarkGetAuditedPaired(b *testing.B) {
	dir := b.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [system:apiserver]\n- level: Metadata\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	audited := startBench(b, func(o *server.Options) { o.Audit.PolicyFile, o.Audit.LogPath = policy, filepath.Join(dir, "audit.log") })
	plain := startBench(b, nil)
	ctx := b.Context()
	for _, cs := range []*kubernetes.Clientset{audited, plain} {
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "g"},
			Data: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	get := func(cs *kubernetes.Clientset) {
		if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "g", metav1.GetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for range 200 { // warm up connections and caches
		get(audited)
		get(plain)
	}
	var on, off time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		first, second, df, ds := audited, plain, &on, &off
		if i%2 == 1 {
			first, second, df, ds = plain, audited, &off, &on
		}
		t0 := time.Now()
		get(first)
		t1 := time.Now()
		get(second)
		*df += t1.Sub(t0)
		*ds += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(on.Nanoseconds())/n, "audited-ns/get")
	b.ReportMetric(float64(off.Nanoseconds())/n, "plain-ns/get")
	b.ReportMetric(float64(on)/float64(off), "ratio")
}
