package apiserver_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// relabelCRD has two versions under conversion None, v1 stored; only
// v2's schema has a default.
const relabelCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: relabels.rel.example.com}
spec:
  group: rel.example.com
  scope: Namespaced
  names: {plural: relabels, singular: relabel, kind: Relabel}
  conversion: {strategy: None}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
  - name: v2
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, color: {type: string, default: blue}}}
`

// TestCustomResourceRelabelDefaults: an object stored through v1 and read
// through v2 under conversion None is defaulted by v2's schema, as
// upstream defaults after converting; the stored object and v1 reads are
// not.
func TestCustomResourceRelabelDefaults(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	v1 := schema.GroupVersionResource{Group: "rel.example.com", Version: "v1", Resource: "relabels"}
	v2 := schema.GroupVersionResource{Group: "rel.example.com", Version: "v2", Resource: "relabels"}
	applyCRDFile(t, s, k, "relabels.rel.example.com", relabelCRD, v1)
	waitEstablished(t, s, "relabels.rel.example.com", v2)
	ctx := context.Background()
	dc := dyn(t, s)
	if _, err := dc.Resource(v1).Namespace("default").Create(ctx, crObj(t,
		`{"apiVersion":"rel.example.com/v1","kind":"Relabel","metadata":{"name":"r"},"spec":{"size":3}}`), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		gvr  schema.GroupVersionResource
		want string
	}{{v2, "blue"}, {v1, ""}, {v2, "blue"}} {
		got, err := dc.Resource(c.gvr).Namespace("default").Get(ctx, "r", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if color, _, _ := unstructured.NestedString(got.Object, "spec", "color"); color != c.want {
			t.Errorf("read through %s: spec.color %q, want %q", c.gvr.Version, color, c.want)
		}
	}
	list, err := dc.Resource(v2).Namespace("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list through v2: %v", err)
	}
	if color, _, _ := unstructured.NestedString(list.Items[0].Object, "spec", "color"); color != "blue" {
		t.Errorf("list through v2: spec.color %q, want blue", color)
	}
}
