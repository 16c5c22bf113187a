package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/etcd3"
	"github.com/regis-dev/regis/internal/storage/value/identify"
)

var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

const (
	key1 = "cmVnaXMtZml4dHVyZS1hZXNjYmMta2V5LTMyYnl0ZXM=" // 32 bytes
	key2 = "cmVnaXMtZml4dHVyZS1hZXNnY20ta2V5LTMyYnl0ZXM=" // 32 bytes
)

func config(resources string) string {
	return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n" + resources
}

func aescbc(keys ...string) string {
	var ks []string
	for _, k := range keys {
		secret := key1
		if k == "key2" {
			secret = key2
		}
		ks = append(ks, fmt.Sprintf("{name: %s, secret: %s}", k, secret))
	}
	return config("- resources: [secrets]\n  providers:\n  - aescbc: {keys: [" + strings.Join(ks, ", ") + "]}\n  - identity: {}\n")
}

var prefixSeq atomic.Int64

// server is what a regis server wires: one configuration file, reloadable,
// and one store per resource holding its per-resource transformer.
type server struct {
	path       string
	prefix     string // etcd prefix of this test
	client     *clientv3.Client
	reloader   *encryptionconfig.Reloader
	secrets    *etcd3.Store
	configmaps *etcd3.Store
}

func newServer(t testing.TB, cfg string, opts encryptionconfig.BuildOptions) *server {
	t.Helper()
	s := &server{path: filepath.Join(t.TempDir(), "encryption.yaml"), prefix: fmt.Sprintf("/e2e%d", prefixSeq.Add(1)), client: srv.Client(t)}
	s.write(t, cfg)
	set, err := encryptionconfig.Load(context.Background(), s.path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := encryptionconfig.NewTransformers(set)
	t.Cleanup(func() { ts.Current().Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if s.reloader, err = encryptionconfig.NewReloader(encryptionconfig.ReloaderConfig{Path: s.path, Transformers: ts, Build: opts, Logger: log}); err != nil {
		t.Fatal(err)
	}
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	newStore := func(resource string, newFunc, newList func() runtime.Object) *etcd3.Store {
		gr := schema.GroupResource{Resource: resource}
		st, err := etcd3.New(etcd3.Config{
			Client: s.client, Codec: c, NewFunc: newFunc, NewListFunc: newList,
			Prefix: s.prefix, ResourcePrefix: "/" + resource, GroupResource: gr,
			Transformer: ts.TransformerForResource(gr), Logger: log,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		return st
	}
	s.secrets = newStore("secrets", func() runtime.Object { return &corev1.Secret{} }, func() runtime.Object { return &corev1.SecretList{} })
	s.configmaps = newStore("configmaps", func() runtime.Object { return &corev1.ConfigMap{} }, func() runtime.Object { return &corev1.ConfigMapList{} })
	return s
}

func (s *server) write(t testing.TB, cfg string) {
	t.Helper()
	if err := os.WriteFile(s.path+".tmp", []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.path+".tmp", s.path); err != nil {
		t.Fatal(err)
	}
}

// reload writes cfg and applies it as the running reloader would.
func (s *server) reload(t *testing.T, cfg string) {
	t.Helper()
	s.write(t, cfg)
	if applied, err := s.reloader.Check(t.Context()); !applied || err != nil {
		t.Fatalf("reload: applied=%v err=%v", applied, err)
	}
}

func (s *server) raw(t *testing.T, key string) []byte {
	t.Helper()
	resp, err := s.client.Get(t.Context(), s.prefix+key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("raw get %s: %v (%d kvs)", key, err, len(resp.Kvs))
	}
	return resp.Kvs[0].Value
}

func secret(name, data string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Data:       map[string][]byte{"password": []byte(data)},
	}
}

// TestEncryptedAtRest: a secret is stored under aescbc key1 and reads
// back; a configmap, not in the configuration, stays plain protobuf.
func TestEncryptedAtRest(t *testing.T) {
	s := newServer(t, aescbc("key1"), encryptionconfig.BuildOptions{})
	ctx := t.Context()
	if err := s.secrets.Create(ctx, "/secrets/ns/s1", secret("s1", "hunter2"), nil, 0); err != nil {
		t.Fatal(err)
	}
	raw := s.raw(t, "/secrets/ns/s1")
	if !bytes.HasPrefix(raw, []byte("k8s:enc:aescbc:v1:key1:")) || bytes.Contains(raw, []byte("hunter2")) {
		t.Fatalf("stored secret: %q", raw[:min(len(raw), 40)])
	}
	var got corev1.Secret
	if err := s.secrets.Get(ctx, "/secrets/ns/s1", storage.GetOptions{}, &got); err != nil || string(got.Data["password"]) != "hunter2" {
		t.Fatalf("Get: %v, %q", err, got.Data["password"])
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c1"}, Data: map[string]string{"k": "v"}}
	if err := s.configmaps.Create(ctx, "/configmaps/ns/c1", cm, nil, 0); err != nil {
		t.Fatal(err)
	}
	if raw := s.raw(t, "/configmaps/ns/c1"); !bytes.HasPrefix(raw, []byte("k8s\x00")) {
		t.Fatalf("stored configmap: %q", raw[:min(len(raw), 20)])
	}
}

// TestOnlineRotation: key1 → key2 with no restart, in kube-apiserver's
// documented steps, every secret readable at every step (and by a reader
// running throughout), ending with every value on key2.
func TestOnlineRotation(t *testing.T) {
	s := newServer(t, aescbc("key1"), encryptionconfig.BuildOptions{})
	ctx := t.Context()
	const n = 20
	for i := range n {
		if err := s.secrets.Create(ctx, fmt.Sprintf("/secrets/ns/s%d", i), secret(fmt.Sprint("s", i), fmt.Sprint("pw", i)), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	readAll := func() error {
		var list corev1.SecretList
		if err := s.secrets.GetList(ctx, "/secrets/ns", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, &list); err != nil {
			return err
		}
		if len(list.Items) != n {
			return fmt.Errorf("listed %d secrets, want %d", len(list.Items), n)
		}
		return nil
	}
	stop := make(chan struct{})
	var readerErr error
	var wg sync.WaitGroup
	// A list runs within one step: its values are fetched and decrypted
	// under one configuration (a list fetched before a rewrite and
	// decrypted after the old key is dropped would fail, by design).
	var stepMu sync.RWMutex
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			stepMu.RLock()
			err := readAll()
			stepMu.RUnlock()
			if err != nil {
				readerErr = err
				return
			}
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
		if readerErr != nil {
			t.Errorf("concurrent reader: %v", readerErr)
		}
	}()

	counts := func() map[string]int {
		out := map[string]int{}
		resp, err := s.client.Get(ctx, s.prefix+"/secrets/", clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range resp.Kvs {
			out[identify.Of(kv.Value).String()]++
		}
		return out
	}
	steps := []struct {
		name    string
		cfg     string
		rewrite bool
		want    string
	}{
		{name: "add key2 as a read key", cfg: aescbc("key1", "key2"), want: "aescbc:key1"},
		{name: "promote key2", cfg: aescbc("key2", "key1"), want: "aescbc:key1"},
		{name: "rewrite", rewrite: true, want: "aescbc:key2"},
		{name: "drop key1", cfg: aescbc("key2"), want: "aescbc:key2"},
	}
	for _, step := range steps {
		if step.cfg != "" {
			stepMu.Lock()
			s.reload(t, step.cfg)
			stepMu.Unlock()
		}
		if step.rewrite {
			// A no-op update writes a stale value again: re-encryption.
			for i := range n {
				err := s.secrets.GuaranteedUpdate(ctx, fmt.Sprintf("/secrets/ns/s%d", i), &corev1.Secret{}, false, nil,
					func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) { return in, nil, nil }, nil)
				if err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
			}
		}
		if err := readAll(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := counts(); got[step.want] != n {
			t.Fatalf("%s: stored values %v, want all %d on %s", step.name, got, n, step.want)
		}
	}
}

// TestMissingKey: a value under a key the configuration lacks fails to read
// with an error naming the key and the provider.
func TestMissingKey(t *testing.T) {
	s := newServer(t, aescbc("key2"), encryptionconfig.BuildOptions{})
	ctx := t.Context()
	if err := s.secrets.Create(ctx, "/secrets/ns/s1", secret("s1", "pw"), nil, 0); err != nil {
		t.Fatal(err)
	}
	s.reload(t, config("- resources: [secrets]\n  providers:\n  - aescbc: {keys: [{name: key1, secret: "+key1+"}]}\n"))
	err := s.secrets.Get(ctx, "/secrets/ns/s1", storage.GetOptions{}, &corev1.Secret{})
	if err == nil || !strings.Contains(err.Error(), `"key2"`) || !strings.Contains(err.Error(), "aescbc") {
		t.Fatalf("Get of a value under a removed key: %v", err)
	}
}

// TestBadConfigAtStart: a bad file is refused before any store exists.
func TestBadConfigAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(config("- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: k, secret: c2hvcnQ=}]}}]\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := encryptionconfig.Load(t.Context(), path, encryptionconfig.BuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "resources[0].providers[0].aescbc.keys[0].secret") {
		t.Fatalf("Load of a bad file: %v", err)
	}
}
