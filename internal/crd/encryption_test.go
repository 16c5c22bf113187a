package crd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	regis "github.com/regis-dev/regis/internal/server"
)

// encryptedCRDs are two CRDs: one of a group the encryption configuration
// names with a wildcard, one of another group.
const encryptedCRDs = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: vaults.enc.example.com}
spec:
  group: enc.example.com
  scope: Namespaced
  names: {plural: vaults, singular: vault, kind: Vault}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: notes.plain.example.org}
spec:
  group: plain.example.org
  scope: Namespaced
  names: {plural: notes, singular: note, kind: Note}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// TestCustomResourcesEncryptedByGroup serves regis with an
// EncryptionConfiguration for "*.enc.example.com" (every resource of the
// group, as upstream reads "*.GROUP"): the custom resources of
// enc.example.com are stored under aescbc, those of plain.example.org as
// plain JSON, and both read back through the API.
func TestCustomResourcesEncryptedByGroup(t *testing.T) {
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	config := `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: ["*.enc.example.com"]
  providers:
  - aescbc: {keys: [{name: key1, secret: ` + key + `}]}
  - identity: {}
`
	path := filepath.Join(dir, "encryption.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	crdPath := filepath.Join(dir, "crds.yaml")
	if err := os.WriteFile(crdPath, []byte(encryptedCRDs), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := regis.DefaultOptions()
	opts.DataDir, opts.EtcdUnsafeNoFsync, opts.EtcdCompactionInterval = dir, true, 0
	opts.EncryptionProviderConfig = path
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
	raw, err := b.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	dc, err := dynamic.NewForConfig(&rest.Config{Host: info.URL, QPS: -1,
		TLSClientConfig: rest.TLSClientConfig{CAData: info.CAData, CertData: info.ClientCertData, KeyData: info.ClientKeyData}})
	if err != nil {
		t.Fatal(err)
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	data, err := os.ReadFile(crdPath)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if _, err := dc.Resource(crds).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	vaults := schema.GroupVersionResource{Group: "enc.example.com", Version: "v1", Resource: "vaults"}
	notes := schema.GroupVersionResource{Group: "plain.example.org", Version: "v1", Resource: "notes"}
	for _, c := range []struct {
		gvr  schema.GroupVersionResource
		body string
	}{
		{vaults, `{"apiVersion":"enc.example.com/v1","kind":"Vault","metadata":{"name":"v"},"spec":{"secret":"hunter2"}}`},
		{notes, `{"apiVersion":"plain.example.org/v1","kind":"Note","metadata":{"name":"n"},"spec":{"text":"in the clear"}}`},
	} {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON([]byte(c.body)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := dc.Resource(c.gvr).Namespace("default").Create(ctx, u, metav1.CreateOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("create %s: %v", c.gvr.Resource, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	value := func(key string) []byte {
		resp, err := raw.Get(ctx, key)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("etcd %s: %v", key, err)
		}
		return resp.Kvs[0].Value
	}
	if v := value("/registry/enc.example.com/vaults/default/v"); !bytes.HasPrefix(v, []byte("k8s:enc:aescbc:v1:key1:")) || bytes.Contains(v, []byte("hunter2")) {
		t.Errorf("vault stored as %q...", v[:min(len(v), 32)])
	}
	if v := value("/registry/plain.example.org/notes/default/n"); !bytes.HasPrefix(v, []byte(`{"apiVersion":"plain.example.org/v1"`)) {
		t.Errorf("note stored as %q...", v[:min(len(v), 32)])
	}
	got, err := dc.Resource(vaults).Namespace("default").Get(ctx, "v", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s, _, _ := unstructured.NestedString(got.Object, "spec", "secret"); s != "hunter2" {
		t.Errorf("vault read back: %v", got.Object)
	}
}
