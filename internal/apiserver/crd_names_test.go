package apiserver_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// clusteredCRD is cluster-scoped, with a short name, categories and
// selectable fields; rackCRD is namespaced, in category all.
const (
	clusteredCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clusters.cl.example.com}
spec:
  group: cl.example.com
  scope: Cluster
  names: {plural: clusters, singular: cluster, kind: Cluster, shortNames: [clu], categories: [mine]}
  versions:
  - name: v1
    served: true
    storage: true
    selectableFields: [{jsonPath: .spec.color}, {jsonPath: .spec.size}]
    additionalPrinterColumns: [{name: Color, type: string, jsonPath: .spec.color}]
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {color: {type: string}, size: {type: integer}}}
`
	rackCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: racks.cl.example.com}
spec:
  group: cl.example.com
  scope: Namespaced
  names: {plural: racks, singular: rack, kind: Rack, shortNames: [rk], categories: [all, mine]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`
)

var (
	clusters = schema.GroupVersionResource{Group: "cl.example.com", Version: "v1", Resource: "clusters"}
	racks    = schema.GroupVersionResource{Group: "cl.example.com", Version: "v1", Resource: "racks"}
)

// TestCustomResourceNamesAndSelectors serves a cluster-scoped CRD and a
// namespaced one: short names and categories through kubectl (get all,
// get SHORTNAME, get CATEGORY), field selectors on metadata.name,
// metadata.namespace and the CRD's selectableFields.
func TestCustomResourceNamesAndSelectors(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	applyCRDFile(t, s, k, "clusters.cl.example.com", clusteredCRD, clusters)
	applyCRDFile(t, s, k, "racks.cl.example.com", rackCRD, racks)
	ctx := context.Background()
	dc := dyn(t, s)
	prefix := etcdPrefix(t)
	for _, ns := range []string{"a", "b"} {
		k.ok("", "create", "namespace", ns)
		if _, err := dc.Resource(racks).Namespace(ns).Create(ctx, crObj(t, `{"apiVersion":"cl.example.com/v1","kind":"Rack","metadata":{"name":"r-`+ns+`"},"spec":{"any":"thing"}}`), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{
		`{"apiVersion":"cl.example.com/v1","kind":"Cluster","metadata":{"name":"c1"},"spec":{"color":"red","size":1}}`,
		`{"apiVersion":"cl.example.com/v1","kind":"Cluster","metadata":{"name":"c2"},"spec":{"color":"blue","size":2}}`,
		`{"apiVersion":"cl.example.com/v1","kind":"Cluster","metadata":{"name":"c3"},"spec":{"color":"red","size":3}}`,
	} {
		if _, err := dc.Resource(clusters).Create(ctx, crObj(t, c), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("cluster scope", func(t *testing.T) {
		got, err := dc.Resource(clusters).Get(ctx, "c1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetNamespace() != "" || got.GetSelfLink() != "" {
			t.Errorf("cluster-scoped object with namespace %q", got.GetNamespace())
		}
		// Under a namespace, a cluster-scoped resource is not found.
		_, err = dc.Resource(clusters).Namespace("a").Get(ctx, "c1", metav1.GetOptions{})
		if code, _ := statusCauses(err); code != 404 {
			t.Errorf("get under a namespace: %v (code %d), want 404", err, code)
		}
		// A namespace in the body of a cluster-scoped object is dropped.
		out, err := dc.Resource(clusters).Create(ctx, crObj(t, `{"apiVersion":"cl.example.com/v1","kind":"Cluster","metadata":{"name":"c4","namespace":"a"},"spec":{"color":"green"}}`), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if out.GetNamespace() != "" {
			t.Errorf("namespace %q kept", out.GetNamespace())
		}
		if v := string(etcdValue(t, prefix+"/cl.example.com/clusters/c4")); strings.Contains(v, `"namespace"`) {
			t.Errorf("stored with a namespace: %s", v)
		}
		if err := dc.Resource(clusters).Delete(ctx, "c4", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("short names and categories", func(t *testing.T) {
		out := k.ok("", "get", "clu")
		expectLines(t, "kubectl get clu", out, "NAME   COLOR", "c1     red", "c2     blue", "c3     red")
		out = k.ok("", "get", "rk", "-n", "a", "-o", "name")
		if out != "rack.cl.example.com/r-a\n" {
			t.Errorf("kubectl get rk -n a: %q", out)
		}
		// "all" holds the namespaced racks (and pods, services... of
		// which there are none); "mine" holds both kinds.
		out = k.ok("", "get", "all", "-n", "a", "-o", "name")
		if !strings.Contains(out, "rack.cl.example.com/r-a") || strings.Contains(out, "cluster.cl.example.com") {
			t.Errorf("kubectl get all -n a: %q", out)
		}
		out = k.ok("", "get", "mine", "-A", "-o", "name")
		for _, want := range []string{"rack.cl.example.com/r-a", "rack.cl.example.com/r-b", "cluster.cl.example.com/c1"} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl get mine -A lacks %s: %q", want, out)
			}
		}
		out = k.ok("", "api-resources", "--api-group=cl.example.com", "-o", "wide")
		expectLines(t, "api-resources", out, "clusters", "clu", "false", "Cluster", "racks", "rk", "true", "Rack", "all,mine")
	})

	t.Run("field selectors", func(t *testing.T) {
		for sel, want := range map[string][]string{
			"metadata.name=c2":                 {"c2"},
			"metadata.name!=c2":                {"c1", "c3"},
			"spec.color=red":                   {"c1", "c3"},
			"spec.color!=red":                  {"c2"},
			"spec.size=3":                      {"c3"},
			"spec.color=red,metadata.name!=c1": {"c3"},
			"spec.color=green":                 {},
		} {
			l, err := dc.Resource(clusters).List(ctx, metav1.ListOptions{FieldSelector: sel})
			if err != nil {
				t.Errorf("list %s: %v", sel, err)
				continue
			}
			if got := namesOf(l); !slices.Equal(got, want) {
				t.Errorf("list %s: %v, want %v", sel, got, want)
			}
		}
		out := k.ok("", "get", "clu", "--field-selector", "spec.color=red", "-o", "name")
		if out != "cluster.cl.example.com/c1\ncluster.cl.example.com/c3\n" {
			t.Errorf("kubectl get clu --field-selector spec.color=red: %q", out)
		}
		// metadata.namespace over all namespaces, and metadata.name.
		l, err := dc.Resource(racks).List(ctx, metav1.ListOptions{FieldSelector: "metadata.namespace=b"})
		if err != nil {
			t.Fatal(err)
		}
		if got := namesOf(l); !slices.Equal(got, []string{"r-b"}) {
			t.Errorf("racks in namespace b: %v", got)
		}
		l, err = dc.Resource(racks).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=r-a"})
		if err != nil {
			t.Fatal(err)
		}
		if got := namesOf(l); !slices.Equal(got, []string{"r-a"}) {
			t.Errorf("racks named r-a: %v", got)
		}
		// A field the CRD does not select on is a 400.
		_, err = dc.Resource(clusters).List(ctx, metav1.ListOptions{FieldSelector: "spec.shape=round"})
		if code, _ := statusCauses(err); code != 400 {
			t.Errorf("unknown field: %v (code %d), want 400", err, code)
		}
		// A watch with a selectable field sees the objects that match.
		w, err := dc.Resource(clusters).Watch(ctx, metav1.ListOptions{FieldSelector: "spec.color=blue"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		select {
		case e := <-w.ResultChan():
			if u, ok := e.Object.(*unstructured.Unstructured); !ok || e.Type != watch.Added || u.GetName() != "c2" {
				t.Errorf("watch spec.color=blue: first event %v %v", e.Type, e.Object)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("watch spec.color=blue: no event")
		}
		// A change that makes c1 match arrives as an ADDED event.
		if _, err := dc.Resource(clusters).Patch(ctx, "c1", types.MergePatchType, []byte(`{"spec":{"color":"blue"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-w.ResultChan():
			if u, ok := e.Object.(*unstructured.Unstructured); !ok || e.Type != watch.Added || u.GetName() != "c1" {
				t.Errorf("watch spec.color=blue: after c1 turned blue: %v %v", e.Type, e.Object)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("watch spec.color=blue: no event for c1")
		}
	})

	t.Run("unknown field selector message", func(t *testing.T) {
		_, err := dc.Resource(clusters).List(ctx, metav1.ListOptions{FieldSelector: "spec.shape=round"})
		if err == nil || err.Error() != "field label not supported: spec.shape" {
			t.Errorf("unknown field: %v", err)
		}
	})
}
