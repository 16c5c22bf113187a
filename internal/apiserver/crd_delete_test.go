package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

const (
	doomedCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: dooms.del.example.com}
spec:
  group: del.example.com
  scope: Namespaced
  names: {plural: dooms, singular: doom, kind: Doom, shortNames: [dm]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
	heldCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: holds.del.example.com}
spec:
  group: del.example.com
  scope: Namespaced
  names: {plural: holds, singular: hold, kind: Hold}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
)

var (
	dooms = schema.GroupVersionResource{Group: "del.example.com", Version: "v1", Resource: "dooms"}
	holds = schema.GroupVersionResource{Group: "del.example.com", Version: "v1", Resource: "holds"}
)

// getCRD reads a CRD as its typed object.
func getCRD(ctx context.Context, dc dynamic.Interface, name string) (*apiextensionsv1.CustomResourceDefinition, error) {
	u, err := dc.Resource(crdsResource).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	b, _ := json.Marshal(u.Object)
	return crd, json.Unmarshal(b, crd)
}

// TestCustomResourceDefinitionDeleted deletes CRDs: their custom resources
// are deleted, the CRD goes, and its resource leaves discovery; a custom
// resource's finalizer holds the CRD until it is removed.
func TestCustomResourceDefinitionDeleted(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	applyCRDFile(t, s, k, "dooms.del.example.com", doomedCRD, dooms)
	applyCRDFile(t, s, k, "holds.del.example.com", heldCRD, holds)
	ctx := context.Background()
	dc := dyn(t, s)
	prefix := etcdPrefix(t)
	countKeys := func(p string) int64 {
		resp, err := shared.Client(t).Get(ctx, prefix+p, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	for _, ns := range []string{"d1", "d2"} {
		k.ok("", "create", "namespace", ns)
		for i := range 3 {
			body := fmt.Sprintf(`{"apiVersion":"del.example.com/v1","kind":"Doom","metadata":{"name":"x%d"},"spec":{"i":%d}}`, i, i)
			if _, err := dc.Resource(dooms).Namespace(ns).Create(ctx, crObj(t, body), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := countKeys("/del.example.com/dooms/"); n != 6 {
		t.Fatalf("%d dooms stored, want 6", n)
	}
	if out := k.ok("", "api-resources", "--api-group=del.example.com", "-o", "name"); !strings.Contains(out, "dooms.del.example.com") {
		t.Fatalf("api-resources before the delete: %q", out)
	}

	t.Run("instances deleted", func(t *testing.T) {
		k.ok("", "delete", "crd", "dooms.del.example.com", "--wait=false")
		eventually(t, "the CRD gone", func() error {
			if _, err := getCRD(ctx, dc, "dooms.del.example.com"); err == nil {
				return fmt.Errorf("still there")
			} else if code, _ := statusCauses(err); code != 404 {
				return err
			}
			return nil
		})
		if n := countKeys("/del.example.com/dooms/"); n != 0 {
			t.Errorf("%d dooms left in etcd", n)
		}
		eventually(t, "the resource out of discovery", func() error {
			_, err := dc.Resource(dooms).Namespace("d1").List(ctx, listAll)
			if code, _ := statusCauses(err); code != 404 {
				return fmt.Errorf("list after the delete: %v", err)
			}
			// kubectl's discovery, uncached (a new cache dir).
			if out := newKubectl(t, s).ok("", "api-resources", "--api-group=del.example.com", "-o", "name"); strings.Contains(out, "dooms") {
				return fmt.Errorf("api-resources: %q", out)
			}
			if _, _, err := newKubectl(t, s).run("", "get", "dm", "-n", "d1"); err == nil {
				return fmt.Errorf("kubectl get dm: no error")
			}
			return nil
		})
		// The other CRD of the group is still served.
		if _, err := dc.Resource(holds).Namespace("d1").List(ctx, listAll); err != nil {
			t.Errorf("holds after dooms went: %v", err)
		}
	})

	t.Run("finalizer holds the CRD", func(t *testing.T) {
		rc := dc.Resource(holds).Namespace("d1")
		if _, err := rc.Create(ctx, crObj(t, `{"apiVersion":"del.example.com/v1","kind":"Hold","metadata":{"name":"h1","finalizers":["example.com/hold"]}}`), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := rc.Create(ctx, crObj(t, `{"apiVersion":"del.example.com/v1","kind":"Hold","metadata":{"name":"h2"}}`), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		k.ok("", "delete", "crd", "holds.del.example.com", "--wait=false")
		eventually(t, "the CRD terminating, h2 gone, h1 held", func() error {
			crd, err := getCRD(ctx, dc, "holds.del.example.com")
			if err != nil {
				return err
			}
			if crd.DeletionTimestamp == nil {
				return fmt.Errorf("no deletionTimestamp")
			}
			c := findCondition(crd, apiextensionsv1.Terminating)
			if c == nil || c.Status != apiextensionsv1.ConditionTrue || c.Reason != "InstanceDeletionInProgress" {
				return fmt.Errorf("Terminating condition %+v", c)
			}
			if _, err := rc.Get(ctx, "h2", metav1.GetOptions{}); err == nil {
				return fmt.Errorf("h2 still there")
			}
			h1, err := rc.Get(ctx, "h1", metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("h1: %v", err)
			}
			if h1.GetDeletionTimestamp() == nil {
				return fmt.Errorf("h1 not being deleted")
			}
			return nil
		})
		// Upstream's forbidCreateAdmission: 403 on a create (and on a
		// patch that would create) while the CRD is terminating.
		t.Run("create refused while terminating", func(t *testing.T) {
			_, err := rc.Create(ctx, crObj(t, `{"apiVersion":"del.example.com/v1","kind":"Hold","metadata":{"name":"h3"}}`), metav1.CreateOptions{})
			code, _ := statusCauses(err)
			if code != 403 || err.Error() != `holds.del.example.com "h3" is forbidden: create not allowed while custom resource definition is terminating` {
				t.Errorf("create while terminating: %v (code %d)", err, code)
			}
			_, err = rc.Apply(ctx, "h4", crObj(t, `{"apiVersion":"del.example.com/v1","kind":"Hold","metadata":{"name":"h4"}}`), metav1.ApplyOptions{FieldManager: "t"})
			if code, _ := statusCauses(err); code != 403 {
				t.Errorf("apply creating while terminating: %v (code %d), want 403", err, code)
			}
		})
		// Discovery lists the verbs of a terminating CRD's resource as
		// upstream's: no create, update nor patch (still served, to let
		// finalizers go).
		t.Run("discovery while terminating", func(t *testing.T) {
			eventually(t, "terminating verbs in discovery", func() error {
				l, err := s.clientset(t).Discovery().ServerResourcesForGroupVersion("del.example.com/v1")
				if err != nil {
					return err
				}
				for _, r := range l.APIResources {
					if r.Name == "holds" {
						if want := []string{"delete", "deletecollection", "get", "list", "watch"}; !slices.Equal(r.Verbs, want) {
							return fmt.Errorf("verbs %v, want %v", r.Verbs, want)
						}
						return nil
					}
				}
				return fmt.Errorf("holds not in discovery")
			})
		})
		// Still held: the CRD and h1 are there.
		if _, err := getCRD(ctx, dc, "holds.del.example.com"); err != nil {
			t.Fatalf("the CRD went while h1 held it: %v", err)
		}
		if _, err := rc.Patch(ctx, "h1", types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("removing h1's finalizer: %v", err)
		}
		eventually(t, "the CRD gone once h1 is", func() error {
			if _, err := getCRD(ctx, dc, "holds.del.example.com"); err == nil {
				return fmt.Errorf("still there")
			} else if code, _ := statusCauses(err); code != 404 {
				return err
			}
			return nil
		})
		if n := countKeys("/del.example.com/"); n != 0 {
			t.Errorf("%d custom resources of del.example.com left in etcd", n)
		}
		eventually(t, "the group out of discovery", func() error {
			_, err := s.clientset(t).Discovery().ServerResourcesForGroupVersion("del.example.com/v1")
			if code, _ := statusCauses(err); code != 404 {
				return fmt.Errorf("discovery of del.example.com/v1: %v", err)
			}
			return nil
		})
	})

	t.Run("created again", func(t *testing.T) {
		// The same name again: served anew, with none of the old objects.
		applyCRDFile(t, s, k, "dooms.del.example.com", doomedCRD, dooms)
		l, err := dc.Resource(dooms).Namespace("d1").List(ctx, listAll)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != 0 {
			t.Errorf("old objects back: %v", namesOf(l))
		}
		if _, err := dc.Resource(dooms).Namespace("d1").Create(ctx, crObj(t, `{"apiVersion":"del.example.com/v1","kind":"Doom","metadata":{"name":"x0"}}`), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

func findCondition(crd *apiextensionsv1.CustomResourceDefinition, typ apiextensionsv1.CustomResourceDefinitionConditionType) *apiextensionsv1.CustomResourceDefinitionCondition {
	for i := range crd.Status.Conditions {
		if crd.Status.Conditions[i].Type == typ {
			return &crd.Status.Conditions[i]
		}
	}
	return nil
}
