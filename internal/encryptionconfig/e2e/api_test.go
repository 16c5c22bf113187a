package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	opsenc "github.com/regis-dev/regis/internal/ops/encryption"
	regis "github.com/regis-dev/regis/internal/server"
)

// TestThroughTheAPI: regis serving the Kubernetes API with aescbc key1 for
// secrets stores a secret created with client-go under
// k8s:enc:aescbc:v1:key1: and a configmap as plain protobuf; an online
// rotation to key2 (regis encryption rotate) with a client reading and
// writing secrets throughout ends with every secret on key2, each readable
// through the API at every step.
func TestThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "encryption.yaml")
	if err := os.WriteFile(path, []byte(aescbc("key1")), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := regis.DefaultOptions()
	opts.DataDir, opts.EtcdUnsafeNoFsync, opts.EtcdCompactionInterval = dir, true, 0
	opts.EncryptionProviderConfig, opts.EncryptionReloadInterval = path, 20*time.Millisecond
	opts.Logger = slog.New(slog.DiscardHandler)
	ready := make(chan regis.Info, 1)
	backend := make(chan *regis.Backend, 1)
	opts.Listener, opts.Ready = ln, func(i regis.Info) { ready <- i }
	opts.Serve = func(ctx context.Context, b *regis.Backend) error {
		backend <- b
		return regis.ServeAPI(ctx, b, opts)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- regis.Run(ctx, opts) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	var info regis.Info
	select {
	case info = <-ready:
	case err := <-done:
		t.Fatalf("server stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server not ready")
	}
	b := <-backend
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: info.URL, QPS: -1,
		TLSClientConfig: rest.TLSClientConfig{CAData: info.CAData, CertData: info.ClientCertData, KeyData: info.ClientKeyData}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.NewClient() // the embedded etcd wants the data dir's client certificate
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// The encryption providers are a named readiness check, as kube-apiserver's.
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/readyz").Param("verbose", "").DoRaw(t.Context())
	if err != nil || !bytes.Contains(body, []byte("[+]kms-providers ok")) {
		t.Fatalf("/readyz?verbose: %v\n%s", err, body)
	}

	const n = 25
	for i := range n {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("s", i)}, Data: map[string][]byte{"pw": []byte(fmt.Sprint("hunter", i))}}
		if _, err := cs.CoreV1().Secrets("default").Create(t.Context(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rawValue := func(key string) []byte {
		resp, err := raw.Get(t.Context(), key)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("raw %s: %v", key, err)
		}
		return resp.Kvs[0].Value
	}
	if v := rawValue("/registry/secrets/default/s0"); !bytes.HasPrefix(v, []byte("k8s:enc:aescbc:v1:key1:")) || bytes.Contains(v, []byte("hunter0")) {
		t.Fatalf("stored secret starts %q", v[:24])
	}
	if v := rawValue("/registry/configmaps/default/c"); !bytes.HasPrefix(v, []byte("k8s\x00")) {
		t.Fatalf("stored configmap starts %q", v[:8])
	}

	// A client reads every secret and updates some, through the API,
	// during the whole rotation.
	bgCtx, bgStop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var bgErr atomic.Value
	var reads, conflicts atomic.Int64
	wg.Go(func() {
		for i := 0; bgCtx.Err() == nil; i++ {
			list, err := cs.CoreV1().Secrets("default").List(bgCtx, metav1.ListOptions{})
			if err == nil && len(list.Items) != n {
				err = fmt.Errorf("listed %d secrets", len(list.Items))
			}
			if err == nil {
				name := fmt.Sprint("s", i%n)
				var s *corev1.Secret
				if s, err = cs.CoreV1().Secrets("default").Get(bgCtx, name, metav1.GetOptions{}); err == nil {
					s.Data = map[string][]byte{"pw": []byte(fmt.Sprint("rotated", i))}
					_, err = cs.CoreV1().Secrets("default").Update(bgCtx, s, metav1.UpdateOptions{})
					if apierrors.IsConflict(err) {
						// The rewrite is a write: a client's update based on the
						// version before it gets a conflict, as with any writer.
						conflicts.Add(1)
						err = nil
					}
				}
			}
			if err != nil && bgCtx.Err() == nil {
				bgErr.Store(err)
				return
			}
			reads.Add(1)
		}
	})
	res, err := opsenc.Rotate(t.Context(), opsenc.RotateOptions{
		Client: raw, Prefix: "/registry", ConfigPaths: []string{path}, MinServers: 1,
		PollInterval: 10 * time.Millisecond, WaitTimeout: 30 * time.Second,
	})
	bgStop()
	wg.Wait()
	if err, _ := bgErr.Load().(error); err != nil {
		t.Fatalf("client during the rotation: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rotation %s → %s: %+v; the client made %d list+get+update rounds (%d conflicts)", res.Old, res.New, res.Steps, reads.Load(), conflicts.Load())
	resp, err := raw.Get(t.Context(), "/registry/secrets/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		if !bytes.HasPrefix(kv.Value, []byte("k8s:enc:aescbc:v1:key2:")) {
			t.Errorf("%s starts %q", kv.Key, kv.Value[:24])
		}
	}
	s, err := cs.CoreV1().Secrets("default").Get(t.Context(), "s7", metav1.GetOptions{})
	if err != nil || len(s.Data["pw"]) == 0 {
		t.Fatalf("secret after rotation: %v", err)
	}
}
