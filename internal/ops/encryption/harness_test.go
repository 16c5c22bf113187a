package encryption_test

import (
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
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

const (
	secret1 = "cmVnaXMtZml4dHVyZS1hZXNjYmMta2V5LTMyYnl0ZXM=" // 32 bytes
	secret2 = "cmVnaXMtZml4dHVyZS1hZXNnY20ta2V5LTMyYnl0ZXM=" // 32 bytes
	secretG = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=" // 32 bytes
)

var (
	secretsGR    = schema.GroupResource{Resource: "secrets"}
	configmapsGR = schema.GroupResource{Resource: "configmaps"}
	prefixSeq    atomic.Int64
	quiet        = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func newPrefix() string { return fmt.Sprintf("/ops%d", prefixSeq.Add(1)) }

// config is an EncryptionConfiguration: secrets with aescbc keys (names
// key1, key2 map to secret1, secret2), then identity; configmaps with
// aesgcm gk1 when gcm is set.
func config(gcm bool, keys ...string) string {
	var ks []string
	for _, k := range keys {
		s := secret1
		if k == "key2" {
			s = secret2
		}
		ks = append(ks, fmt.Sprintf("{name: %s, secret: %s}", k, s))
	}
	c := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: [" + strings.Join(ks, ", ") + "]}\n  - identity: {}\n"
	if gcm {
		c += "- resources: [configmaps]\n  providers:\n  - aesgcm: {keys: [{name: gk1, secret: " + secretG + "}]}\n  - identity: {}\n"
	}
	return c
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// node is a regis server in process, as internal/server wires one: a
// reloaded configuration, its registration in etcd, aesgcm write counts,
// and stores of secrets and configmaps.
type node struct {
	id         string
	path       string
	prefix     string
	client     *clientv3.Client
	ts         *encryptionconfig.Transformers
	counts     *peers.WriteCounter
	reloader   *encryptionconfig.Reloader
	secrets    *etcd3.Store
	configmaps *etcd3.Store
	stop       func()
	// startReload runs the reloader (at once unless noReload).
	startReload func()
}

type nodeOptions struct {
	// noReload does not run the reloader (the test calls startReload).
	noReload bool
}

func newNode(t *testing.T, id, prefix, cfg string, o nodeOptions) *node {
	t.Helper()
	n := &node{id: id, prefix: prefix, path: filepath.Join(t.TempDir(), id+".yaml"), client: srv.Client(t), counts: peers.NewWriteCounter()}
	writeFile(t, n.path, cfg)
	build := encryptionconfig.BuildOptions{AESGCMWrites: n.counts.Hook}
	set, err := encryptionconfig.Load(t.Context(), n.path, build)
	if err != nil {
		t.Fatal(err)
	}
	n.ts = encryptionconfig.NewTransformers(set)
	if n.reloader, err = encryptionconfig.NewReloader(encryptionconfig.ReloaderConfig{
		Path: n.path, Transformers: n.ts, Build: build, Logger: quiet, Interval: 20 * time.Millisecond,
		Gate: peers.Gate(n.client, peers.NewLayout(prefix), id),
	}); err != nil {
		t.Fatal(err)
	}
	pub, err := peers.NewPublisher(peers.PublisherConfig{Client: n.client, Layout: peers.NewLayout(prefix), ID: id, Transformers: n.ts, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = pub.Run(ctx) })
	var once sync.Once
	n.startReload = func() { once.Do(func() { wg.Go(func() { _ = n.reloader.Run(ctx) }) }) }
	if !o.noReload {
		n.startReload()
	}
	n.stop = func() { once.Do(func() {}); cancel(); wg.Wait() }
	t.Cleanup(func() { n.stop(); n.ts.Current().Close() })

	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	newStore := func(gr schema.GroupResource, newFunc, newList func() runtime.Object) *etcd3.Store {
		st, err := etcd3.New(etcd3.Config{
			Client: n.client, Codec: c, NewFunc: newFunc, NewListFunc: newList,
			Prefix: prefix, ResourcePrefix: "/" + gr.Resource, GroupResource: gr,
			Transformer: n.ts.TransformerForResource(gr), Logger: quiet,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		return st
	}
	n.secrets = newStore(secretsGR, func() runtime.Object { return &corev1.Secret{} }, func() runtime.Object { return &corev1.SecretList{} })
	n.configmaps = newStore(configmapsGR, func() runtime.Object { return &corev1.ConfigMap{} }, func() runtime.Object { return &corev1.ConfigMapList{} })
	// Wait for the registration.
	wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer wcancel()
	for {
		regs, _ := peers.List(wctx, n.client, peers.NewLayout(prefix))
		for _, r := range regs {
			if r.ID == id {
				return n
			}
		}
		if wctx.Err() != nil {
			t.Fatalf("%s never registered", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func secret(name, data string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Data:       map[string][]byte{"password": []byte(data)},
	}
}

func (n *node) createSecret(t testing.TB, name, data string) {
	t.Helper()
	if err := n.secrets.Create(t.Context(), "/secrets/ns/"+name, secret(name, data), nil, 0); err != nil {
		t.Fatal(err)
	}
}

// updateSecret sets a secret's data, creating it if it is missing.
func (n *node) updateSecret(ctx context.Context, name, data string) error {
	return n.secrets.GuaranteedUpdate(ctx, "/secrets/ns/"+name, &corev1.Secret{}, true, nil,
		func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			s := in.(*corev1.Secret).DeepCopy()
			s.Namespace, s.Name = "ns", name
			s.Data = map[string][]byte{"password": []byte(data)}
			return s, nil, nil
		}, nil)
}

// readSecrets lists every secret through the node's store: an error means
// some value is not readable by this node.
func (n *node) readSecrets(ctx context.Context) (map[string]string, error) {
	var list corev1.SecretList
	if err := n.secrets.GetList(ctx, "/secrets", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, &list); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range list.Items {
		out[s.Name] = string(s.Data["password"])
	}
	return out, nil
}

func (n *node) reload(t *testing.T, cfg string) {
	t.Helper()
	writeFile(t, n.path, cfg)
	if _, err := n.reloader.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
}
