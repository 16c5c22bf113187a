package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// multiCRD has two versions under conversion None, v1 stored.
const multiCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: multis.ver.example.com}
spec:
  group: ver.example.com
  scope: Namespaced
  names: {plural: multis, singular: multi, kind: Multi}
  conversion: {strategy: None}
  versions:
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, old: {type: string}}}
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer, default: 1}}}
`

var (
	multisV1     = schema.GroupVersionResource{Group: "ver.example.com", Version: "v1", Resource: "multis"}
	multisBeta   = schema.GroupVersionResource{Group: "ver.example.com", Version: "v1beta1", Resource: "multis"}
	crdsResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// warnings collects the Warning headers a client receives.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

// TestCustomResourceVersions creates a custom resource through a version
// that is not stored and reads it through the storage version, and
// checks what etcd holds and the CRD's storedVersions, before and after
// the storage version changes.
func TestCustomResourceVersions(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	applyCRDFile(t, s, k, "multis.ver.example.com", multiCRD, multisV1)
	waitEstablished(t, s, "multis.ver.example.com", multisBeta)
	k.ok("", "create", "namespace", "ver")
	ctx := context.Background()
	prefix := etcdPrefix(t)
	dc := dyn(t, s)
	beta, v1 := dc.Resource(multisBeta).Namespace("ver"), dc.Resource(multisV1).Namespace("ver")

	created, err := beta.Create(ctx, crObj(t, `{"apiVersion":"ver.example.com/v1beta1","kind":"Multi","metadata":{"name":"m1"},"spec":{"size":3,"old":"x"}}`), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.GetAPIVersion() != "ver.example.com/v1beta1" {
		t.Errorf("created as %s", created.GetAPIVersion())
	}
	// Stored at the storage version, pruned with the v1beta1 schema
	// (spec.old kept) and defaulted by v1's only when read as v1.
	var stored map[string]any
	if err := json.Unmarshal(etcdValue(t, prefix+"/ver.example.com/multis/ver/m1"), &stored); err != nil {
		t.Fatal(err)
	}
	if stored["apiVersion"] != "ver.example.com/v1" {
		t.Errorf("stored apiVersion %v, want ver.example.com/v1", stored["apiVersion"])
	}
	got, err := v1.Get(ctx, "m1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetAPIVersion() != "ver.example.com/v1" || got.GetUID() != created.GetUID() {
		t.Errorf("read through v1: %s uid %s", got.GetAPIVersion(), got.GetUID())
	}
	if got.GetResourceVersion() != created.GetResourceVersion() {
		t.Errorf("resourceVersion %s through v1, %s at create", got.GetResourceVersion(), created.GetResourceVersion())
	}
	// Lists of both versions hold both objects, each relabelled.
	if _, err := v1.Create(ctx, crObj(t, `{"apiVersion":"ver.example.com/v1","kind":"Multi","metadata":{"name":"m2"},"spec":{}}`), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := beta.List(ctx, listAll)
	if err != nil {
		t.Fatal(err)
	}
	if l.GetAPIVersion() != "ver.example.com/v1beta1" || len(l.Items) != 2 {
		t.Fatalf("v1beta1 list %s of %d", l.GetAPIVersion(), len(l.Items))
	}
	for _, it := range l.Items {
		if it.GetAPIVersion() != "ver.example.com/v1beta1" {
			t.Errorf("v1beta1 list item %s as %s", it.GetName(), it.GetAPIVersion())
		}
	}
	// A body of the other version is refused with upstream's 400.
	_, err = v1.Create(ctx, crObj(t, `{"apiVersion":"ver.example.com/v1beta1","kind":"Multi","metadata":{"name":"m3"},"spec":{}}`), metav1.CreateOptions{})
	if code, _ := statusCauses(err); code != 400 {
		t.Errorf("a v1beta1 body posted to v1: %v (code %d), want 400", err, code)
	}
	// kubectl reads either version.
	if out := k.ok("", "get", "multis.v1beta1.ver.example.com", "m1", "-n", "ver", "-o", "jsonpath={.apiVersion}"); out != "ver.example.com/v1beta1" {
		t.Errorf("kubectl get multis.v1beta1: %q", out)
	}

	t.Run("deprecated version warns", func(t *testing.T) {
		w := &warnings{}
		cfg := rest.CopyConfig(s.config)
		cfg.WarningHandler = w
		if _, err := dynamic.NewForConfigOrDie(cfg).Resource(multisBeta).Namespace("ver").Get(ctx, "m1", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		want := "ver.example.com/v1beta1 Multi is deprecated; use ver.example.com/v1 Multi"
		if !slices.Contains(w.msgs, want) {
			t.Errorf("warnings %q, want %q", w.msgs, want)
		}
	})

	t.Run("storage version changed", func(t *testing.T) {
		crdClient := dc.Resource(crdsResource)
		if err := crdStoredVersions(ctx, dc, "multis.ver.example.com", "v1"); err != nil {
			t.Fatal(err)
		}
		patch := `[{"op":"replace","path":"/spec/versions/0/storage","value":true},{"op":"replace","path":"/spec/versions/1/storage","value":false}]`
		if _, err := crdClient.Patch(ctx, "multis.ver.example.com", types.JSONPatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := crdStoredVersions(ctx, dc, "multis.ver.example.com", "v1", "v1beta1"); err != nil {
			t.Error(err)
		}
		t.Run("writes stored at the new storage version", func(t *testing.T) {
			// Writes are stored as v1beta1 once the new rows serve; the old
			// object keeps its bytes until written.
			n := 0
			eventually(t, "writes stored as v1beta1", func() error {
				n++
				name := fmt.Sprintf("n%d", n)
				if _, err := v1.Create(ctx, crObj(t, `{"apiVersion":"ver.example.com/v1","kind":"Multi","metadata":{"name":"`+name+`"},"spec":{}}`), metav1.CreateOptions{}); err != nil {
					return err
				}
				var stored map[string]any
				if err := json.Unmarshal(etcdValue(t, prefix+"/ver.example.com/multis/ver/"+name), &stored); err != nil {
					return err
				}
				if stored["apiVersion"] != "ver.example.com/v1beta1" {
					return fmt.Errorf("stored as %v", stored["apiVersion"])
				}
				return nil
			})
			var old map[string]any
			if err := json.Unmarshal(etcdValue(t, prefix+"/ver.example.com/multis/ver/m1"), &old); err != nil {
				t.Fatal(err)
			}
			if old["apiVersion"] != "ver.example.com/v1" {
				t.Errorf("m1 rewritten as %v without a write", old["apiVersion"])
			}
		})
		// And still read through both versions.
		for _, rc := range []dynamic.ResourceInterface{v1, beta} {
			if _, err := rc.Get(ctx, "m1", metav1.GetOptions{}); err != nil {
				t.Errorf("get m1: %v", err)
			}
		}
	})
}

// crdStoredVersions checks a CRD's status.storedVersions.
func crdStoredVersions(ctx context.Context, dc dynamic.Interface, name string, want ...string) error {
	u, err := dc.Resource(crdsResource).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	b, _ := json.Marshal(u.Object)
	if err := json.Unmarshal(b, crd); err != nil {
		return err
	}
	got := slices.Clone(crd.Status.StoredVersions)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("storedVersions %v, want %v", crd.Status.StoredVersions, want)
	}
	return nil
}
