package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/regis-dev/regis/internal/server"
)

// runServer runs a regis server on dataDir and port until the returned
// stop is called.
func runServer(t *testing.T, dataDir string, port int) (*rest.Config, func()) {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir, o.SecurePort, o.EtcdUnsafeNoFsync = dataDir, port, true
	o.EmbeddedEtcdClientPort, o.EmbeddedEtcdPeerPort = 0, 0
	return runServerWith(t, o)
}

// runServerWith runs a regis server of o until the returned stop is
// called.
func runServerWith(t *testing.T, o server.Options) (*rest.Config, func()) {
	t.Helper()
	o.Logger = slog.New(slog.DiscardHandler)
	ready := make(chan server.Info, 1)
	o.Ready = func(i server.Info) { ready <- i }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, o) }()
	var info server.Info
	select {
	case info = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server not ready")
	}
	cfg := &rest.Config{Host: info.URL, TLSClientConfig: rest.TLSClientConfig{CAData: info.CAData, CertData: info.ClientCertData, KeyData: info.ClientKeyData}}
	return cfg, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSnapshotRestoreInformerRelists: a client-go informer running across
// a restore relists (the revision was bumped and compacted) and
// converges on the snapshot's objects: those created after the snapshot
// disappear, the one deleted after it comes back.
func TestSnapshotRestoreInformerRelists(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	cfg, stop := runServer(t, dir, port)
	cs := kubernetes.NewForConfigOrDie(cfg)
	mk := func(name string) {
		t.Helper()
		if _, err := cs.CoreV1().ConfigMaps("default").Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		mk(fmt.Sprint("a", i))
	}
	snap := filepath.Join(t.TempDir(), "snap.db")
	out, err := execute(t, t.Context(), nil, "snapshot", "save", snap, "--data-dir", dir)
	if err != nil || !strings.Contains(out, "sha256 ok") {
		t.Fatalf("save: %v\n%s", err, out)
	}
	for i := 1; i <= 3; i++ {
		mk(fmt.Sprint("b", i))
	}
	if err := cs.CoreV1().ConfigMaps("default").Delete(t.Context(), "a1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(kubernetes.NewForConfigOrDie(cfg), 0, informers.WithNamespace("default"))
	inf := factory.Core().V1().ConfigMaps().Informer()
	ictx, icancel := context.WithCancel(context.Background())
	defer factory.Shutdown() // after icancel
	defer icancel()
	factory.Start(ictx.Done())
	names := func() string {
		var n []string
		for _, o := range inf.GetStore().List() {
			if name := o.(*corev1.ConfigMap).Name; name != "kube-root-ca.crt" {
				n = append(n, name)
			}
		}
		sort.Strings(n)
		return strings.Join(n, ",")
	}
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(90 * time.Second); names() != want; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("informer has %s, want %s", names(), want)
			}
		}
	}
	cache.WaitForCacheSync(ictx.Done(), inf.HasSynced)
	waitFor("a2,a3,a4,a5,b1,b2,b3")

	stop()
	if err := os.Rename(server.EmbeddedEtcdDir(dir), filepath.Join(dir, "etcd.old")); err != nil {
		t.Fatal(err)
	}
	out, err = execute(t, t.Context(), nil, "snapshot", "restore", snap, "--data-dir", dir, "-o", "json")
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	_, stop = runServer(t, dir, port)
	defer stop()
	waitFor("a1,a2,a3,a4,a5")
	mk("c1")
	waitFor("a1,a2,a3,a4,a5,c1")
}

// TestScheduledSnapshots: serve with --etcd-snapshot-interval snapshots
// its embedded etcd, keeps --etcd-snapshot-retention of them and says so
// in /metrics.
func TestScheduledSnapshots(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir, o.SecurePort, o.EtcdUnsafeNoFsync = t.TempDir(), 0, true
	o.EmbeddedEtcdClientPort, o.EmbeddedEtcdPeerPort = 0, 0
	o.EtcdSnapshotInterval, o.EtcdSnapshotRetention = 100*time.Millisecond, 2
	cfg, stop := runServerWith(t, o)
	defer stop()
	cs := kubernetes.NewForConfigOrDie(cfg)
	dir := server.EmbeddedSnapshotDir(o.DataDir)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		entries, _ := os.ReadDir(dir)
		metrics, _ := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(t.Context())
		if len(entries) == 2 && strings.Contains(string(metrics), "regis_etcd_snapshot_last_size_bytes") &&
			!strings.Contains(string(metrics), "regis_etcd_snapshot_last_size_bytes 0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d snapshots in %s", len(entries), dir)
		}
	}
}
