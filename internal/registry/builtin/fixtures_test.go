package builtin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
)

var shared *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &shared)) }

const fixtures = "testdata/kube-apiserver-v1.37.2"

// newRegistry returns a registry over the shared etcd, under a prefix of
// the test's own, with the system namespaces created.
func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	client := shared.Client(t)
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	// Runs last: the next run of this test (-count) starts from an empty prefix.
	t.Cleanup(func() { _, _ = client.Delete(context.Background(), prefix+"/", clientv3.WithPrefix()) })
	reg, err := registry.New(registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(), Storage: server.EtcdStorage(server.EtcdConfig{
		Client: client,
		Prefix: prefix,
	})})
	if err != nil {
		t.Fatal(err)
	}
	if err := controller.Bootstrap(t.Context(), reg, 6443, builtin.DefaultServiceNetwork()); err != nil {
		t.Fatal(err)
	}
	return reg
}

// decodeManifests reads the manifests kube-apiserver was given.
func decodeManifests(t *testing.T) []runtime.Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := serializer.NewCodecFactory(codec.Scheme()).UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []runtime.Object
	for {
		doc, err := r.Read()
		if err != nil {
			break
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("decode manifest: %v\n%s", err, doc)
		}
		out = append(out, obj)
	}
	return out
}

// TestDefaultsMatchKubeAPIServer creates every fixture manifest through the
// generic store and compares what is read back with what a real
// kube-apiserver v1.37.2 served for the same manifest, less the values
// that differ by nature (uid, timestamps, resourceVersion, the allocated
// cluster IP, kubectl's last-applied annotation).
func TestDefaultsMatchKubeAPIServer(t *testing.T) {
	reg := newRegistry(t)
	ctx := t.Context()
	for _, obj := range decodeManifests(t) {
		gvk := obj.GetObjectKind().GroupVersionKind()
		m, _ := meta.Accessor(obj)
		name := strings.ToLower(gvk.Kind)
		t.Run(name, func(t *testing.T) {
			store := storeFor(t, reg, gvk.GroupVersion().WithResource(plural(gvk.Kind)))
			if _, err := store.Create(ctx, m.GetNamespace(), obj, registry.CreateOptions{}); err != nil {
				t.Fatalf("create: %v", err)
			}
			got, err := store.Get(ctx, m.GetNamespace(), m.GetName(), nil)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			want := readJSON(t, filepath.Join(fixtures, name+".get.json"))
			gotJSON := toMap(t, got)
			normalize(want, gotJSON)
			if diff := cmp.Diff(want, gotJSON); diff != "" {
				t.Errorf("%s differs from kube-apiserver's (-want +got):\n%s", name, diff)
			}
		})
	}
}

func plural(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(k, "y"):
		return k[:len(k)-1] + "ies"
	case strings.HasSuffix(k, "s"):
		return k + "es"
	}
	return k + "s"
}

func storeFor(t *testing.T, reg *registry.Registry, gvr interface {
	String() string
}) *registry.Store {
	t.Helper()
	for _, s := range reg.Stores() {
		if s.Resource().GroupVersionResource().String() == gvr.String() {
			return s
		}
	}
	t.Fatalf("no store for %s", gvr)
	return nil
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func toMap(t *testing.T, obj runtime.Object) map[string]any {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// normalize replaces, in both objects, the values that legitimately differ
// between two servers by placeholders.
func normalize(objs ...map[string]any) {
	for _, o := range objs {
		md := o["metadata"].(map[string]any)
		uid, _ := md["uid"].(string)
		for _, k := range []string{"uid", "creationTimestamp", "resourceVersion"} {
			if _, ok := md[k]; ok {
				md[k] = "<" + k + ">"
			}
		}
		if a, ok := md["annotations"].(map[string]any); ok {
			delete(a, "kubectl.kubernetes.io/last-applied-configuration")
			if len(a) == 0 {
				delete(md, "annotations")
			}
		}
		replaceString(o, uid, "<uid>")
		if spec, ok := o["spec"].(map[string]any); ok && o["kind"] == "Service" {
			spec["clusterIP"] = "<ip>"
			spec["clusterIPs"] = []any{"<ip>"}
		}
	}
}

// replaceString replaces a string value everywhere in a JSON tree.
func replaceString(v any, old, repl string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && s == old && old != "" {
				x[k] = repl
			} else {
				replaceString(e, old, repl)
			}
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok && s == old && old != "" {
				x[i] = repl
			} else {
				replaceString(e, old, repl)
			}
		}
	}
}
