package apiserver_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/codec"
)

// The bytes a real kube-apiserver v1.37.2 stored for the manifests
// kubectl apply (client-side) gave it, and the manifests.
const (
	fixtureValues    = "../codec/testdata/kube-apiserver-v1.37.2"
	fixtureManifests = "../registry/builtin/testdata/kube-apiserver-v1.37.2/manifests.yaml"
)

// TestStoredBytesMatchKubeAPIServer applies the fixtures' manifests with
// kubectl, as they were given to kube-apiserver, and compares what regis
// stored in etcd with what kube-apiserver stored, managedFields and
// kubectl's last-applied annotation included: the same object, and the
// same bytes once the values that differ by nature (uid, times,
// resourceVersion, the allocated cluster IP) are made equal.
func TestStoredBytesMatchKubeAPIServer(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	k.ok("", "apply", "-f", fixtureManifests)
	keys, err := filepath.Glob(filepath.Join(fixtureValues, "*.key"))
	if err != nil || len(keys) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	client := shared.Client(t)
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	for _, keyFile := range keys {
		name := strings.TrimSuffix(filepath.Base(keyFile), ".key")
		t.Run(name, func(t *testing.T) {
			key := strings.TrimSpace(string(readFile(t, keyFile)))
			want := decodeStored(t, readFile(t, strings.TrimSuffix(keyFile, ".key")+".etcd.bin"))
			resp, err := client.Get(t.Context(), prefix+strings.TrimPrefix(key, "/registry"))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Kvs) != 1 {
				t.Fatalf("regis stored nothing at %s", key)
			}
			value := resp.Kvs[0].Value
			got := sameByNature(t, want, decodeStored(t, value))
			if diff := cmp.Diff(jsonTree(t, want), jsonTree(t, got)); diff != "" {
				t.Fatalf("stored %s differs from kube-apiserver's (-kube-apiserver +regis):\n%s", key, diff)
			}
			if !bytes.HasPrefix(value, []byte("k8s\x00")) {
				t.Fatalf("stored %s is not protobuf: %q", key, value[:min(len(value), 16)])
			}
			w, g := encodeStored(t, want), encodeStored(t, got)
			if !bytes.Equal(w, g) {
				t.Fatalf("stored %s: the same object, other bytes:\nkube-apiserver %q\nregis          %q", key, w, g)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decodeStored(t *testing.T, value []byte) runtime.Object {
	t.Helper()
	obj, _, err := codec.Deserializer().Decode(value, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// encodeStored encodes obj as the storage does, at its own version.
func encodeStored(t *testing.T, obj runtime.Object) []byte {
	t.Helper()
	gv := obj.GetObjectKind().GroupVersionKind().GroupVersion()
	c, err := codec.New("application/vnd.kubernetes.protobuf", gv)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Encode(obj, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sameByNature returns got with the values of want that two servers
// choose each on its own: uid (where it also names things, as a job's
// selector), resourceVersion, the times, a service's cluster IPs.
func sameByNature(t *testing.T, want, got runtime.Object) runtime.Object {
	t.Helper()
	w, g := accessor(t, want), accessor(t, got)
	oldUID := g.GetUID()
	g.SetResourceVersion(w.GetResourceVersion())
	g.SetCreationTimestamp(w.GetCreationTimestamp())
	wm, gm := w.GetManagedFields(), g.GetManagedFields()
	for i := range gm {
		if i < len(wm) {
			gm[i].Time = wm[i].Time
		}
	}
	g.SetManagedFields(gm)
	if ws, ok := want.(*corev1.Service); ok {
		gs := got.(*corev1.Service)
		gs.Spec.ClusterIP, gs.Spec.ClusterIPs = ws.Spec.ClusterIP, ws.Spec.ClusterIPs
	}
	data, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(oldUID), []byte(w.GetUID()))
	out := got.DeepCopyObject()
	reflect.ValueOf(out).Elem().SetZero()
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func accessor(t *testing.T, obj runtime.Object) metav1.Object {
	t.Helper()
	m, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonTree is obj as a generic JSON tree, for a readable diff.
func jsonTree(t *testing.T, obj runtime.Object) any {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStoredCustomBytesMatchKubeAPIServer does the same for the fixtures'
// CustomResourceDefinition (v1beta1 JSON, managedFields of kubectl and of
// the controllers that establish it) and custom resource (JSON, pruned
// and defaulted): the same bytes, once uids and times are made equal.
func TestStoredCustomBytesMatchKubeAPIServer(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	k.ok("", "apply", "-f", fixtureCRD)
	waitEstablished(t, s, "widgets.example.com", widgets)
	k.ok("", "create", "namespace", "fx")
	k.ok("", "create", "--validate=false", "-f", fixtureCR)
	client := shared.Client(t)
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	for _, name := range []string{"crd", "customresource"} {
		t.Run(name, func(t *testing.T) {
			base := filepath.Join("../codec/testdata/custom", name)
			key := strings.TrimSpace(string(readFile(t, base+".key")))
			want := readFile(t, base+".etcd.bin")
			resp, err := client.Get(t.Context(), prefix+strings.TrimPrefix(key, "/registry"))
			if err != nil || len(resp.Kvs) != 1 {
				t.Fatalf("regis stored nothing at %s: %v", key, err)
			}
			got := resp.Kvs[0].Value
			if w, g := sameJSONByNature(want), sameJSONByNature(got); !bytes.Equal(w, g) {
				t.Fatalf("stored %s differs from kube-apiserver's:\nkube-apiserver %s\nregis          %s", key, w, g)
			}
		})
	}
}

var (
	uidPattern  = regexp.MustCompile(`"uid":"[0-9a-f-]{36}"`)
	timePattern = regexp.MustCompile(`"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"`)
)

// sameJSONByNature replaces in a stored JSON value the uids and times,
// which two servers choose each on its own.
func sameJSONByNature(b []byte) []byte {
	b = uidPattern.ReplaceAll(b, []byte(`"uid":"<uid>"`))
	return timePattern.ReplaceAll(b, []byte(`"<time>"`))
}
