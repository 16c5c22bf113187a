package crd_test

import (
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/regis-dev/regis/internal/crd"
)

// rowsCRD has three versions: v1alpha1 not served, v1beta1 served, v1
// served and stored, with /status, /scale, short names, categories and a
// selectable field.
const rowsCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.rows.example.com}
spec:
  group: rows.example.com
  scope: Namespaced
  names: {plural: things, singular: thing, kind: Thing, listKind: ThingList, shortNames: [th], categories: [all]}
  versions:
  - name: v1alpha1
    served: false
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1beta1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1
    served: true
    storage: true
    selectableFields: [{jsonPath: .spec.color}]
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {type: string}
              replicas: {type: integer, default: 1}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
status:
  acceptedNames: {plural: things, singular: thing, kind: Thing, listKind: ThingList, shortNames: [th], categories: [all]}
`

func parseCRD(t *testing.T, doc string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	c := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal([]byte(doc), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func thing(version string, spec, status map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rows.example.com/" + version, "kind": "Thing",
		"metadata": map[string]any{"name": "t", "namespace": "ns"},
	}}
	if spec != nil {
		u.Object["spec"] = spec
	}
	if status != nil {
		u.Object["status"] = status
	}
	return u
}

// TestRows checks the rows of a CRD's versions: which are served, which
// is stored, how they convert, and what each row carries from the CRD.
func TestRows(t *testing.T) {
	c := parseCRD(t, rowsCRD)
	served, storage, err := crd.Rows(c, crd.WebhookOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, r := range served {
		versions = append(versions, r.Version)
		if r.Group != "rows.example.com" || r.Resource != "things" || r.Kind != "Thing" || r.Singular != "thing" || !r.Namespaced || !r.Custom {
			t.Errorf("row %s: %+v", r.Version, r)
		}
		if !slices.Equal(r.ShortNames, []string{"th"}) || !slices.Equal(r.Categories, []string{"all"}) {
			t.Errorf("row %s: short names %v categories %v", r.Version, r.ShortNames, r.Categories)
		}
	}
	if !slices.Equal(versions, []string{"v1beta1", "v1"}) {
		t.Errorf("served versions %v, want [v1beta1 v1] (v1alpha1 is not served)", versions)
	}
	if storage == nil || storage.Version != "v1" || storage.Convert != nil {
		t.Fatalf("storage row %+v", storage)
	}
	beta := served[0]
	if beta.Convert == nil {
		t.Fatal("v1beta1 row without conversion")
	}

	t.Run("conversion None relabels", func(t *testing.T) {
		in := thing("v1beta1", map[string]any{"color": "red"}, nil)
		out, err := beta.Convert.ToStorage(in)
		if err != nil {
			t.Fatal(err)
		}
		u := out.(*unstructured.Unstructured)
		if u.GetAPIVersion() != "rows.example.com/v1" || u.GetName() != "t" {
			t.Errorf("to storage: %v", u.Object)
		}
		if in.GetAPIVersion() != "rows.example.com/v1beta1" {
			t.Errorf("the conversion changed its input: %s", in.GetAPIVersion())
		}
		back, err := beta.Convert.FromStorage(u)
		if err != nil {
			t.Fatal(err)
		}
		if got := back.(*unstructured.Unstructured).GetAPIVersion(); got != "rows.example.com/v1beta1" {
			t.Errorf("from storage: %s", got)
		}
	})

	t.Run("new objects", func(t *testing.T) {
		o := storage.New().(*unstructured.Unstructured)
		if o.GetAPIVersion() != "rows.example.com/v1" || o.GetKind() != "Thing" {
			t.Errorf("New: %v", o.Object)
		}
		l := beta.NewList().(*unstructured.UnstructuredList)
		if l.GetAPIVersion() != "rows.example.com/v1beta1" || l.GetKind() != "ThingList" {
			t.Errorf("NewList: %v", l.Object)
		}
	})

	t.Run("status and scale", func(t *testing.T) {
		if !storage.Status || beta.Status {
			t.Errorf("status: v1 %v v1beta1 %v; want true false", storage.Status, beta.Status)
		}
		if storage.Scale == nil || beta.Scale != nil {
			t.Fatalf("scale: v1 %v v1beta1 %v", storage.Scale, beta.Scale)
		}
		obj := thing("v1", map[string]any{"replicas": int64(3)}, map[string]any{"replicas": int64(2), "selector": "app=x"})
		spec, status, sel := storage.Scale.Replicas(obj)
		if spec != 3 || status != 2 || sel != "app=x" {
			t.Errorf("replicas %d %d %q", spec, status, sel)
		}
		storage.Scale.SetReplicas(obj, 5)
		if n, _, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas"); n != 5 {
			t.Errorf("SetReplicas: %v", obj.Object["spec"])
		}
		// No status yet, a selector that does not parse: zero, none.
		obj = thing("v1", map[string]any{"replicas": int64(1)}, map[string]any{"selector": "a b c"})
		if _, status, sel := storage.Scale.Replicas(obj); status != 0 || sel != "" {
			t.Errorf("status %d selector %q, want 0 and none", status, sel)
		}
	})

	t.Run("selectable fields", func(t *testing.T) {
		if storage.Fields == nil {
			t.Fatal("v1 row without selectable fields")
		}
		set := storage.Fields(thing("v1", map[string]any{"color": "red"}, nil))
		if set["spec.color"] != "red" {
			t.Errorf("fields %v", set)
		}
		if beta.Fields != nil {
			t.Errorf("v1beta1 declares no selectable fields: %v", beta.Fields(thing("v1beta1", nil, nil)))
		}
	})

	t.Run("default and prune", func(t *testing.T) {
		obj := thing("v1", map[string]any{"color": "red", "unknown": true}, nil)
		unknown, err := storage.Prune(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(unknown, []string{"spec.unknown"}) {
			t.Errorf("pruned %v", unknown)
		}
		storage.Default(obj)
		if n, _, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas"); n != 1 {
			t.Errorf("defaulted spec %v", obj.Object["spec"])
		}
		// A row of a version that preserves unknown fields prunes none.
		keep := thing("v1beta1", map[string]any{"anything": true}, nil)
		if unknown, err := beta.Prune(keep); err != nil || len(unknown) != 0 {
			t.Errorf("v1beta1 pruned %v %v", unknown, err)
		}
	})
}

// TestRowsRefused checks CRDs that cannot be served.
func TestRowsRefused(t *testing.T) {
	c := parseCRD(t, rowsCRD)
	for i := range c.Spec.Versions {
		c.Spec.Versions[i].Storage = false
	}
	if _, _, err := crd.Rows(c, crd.WebhookOptions{}); err == nil {
		t.Errorf("a CRD without a storage version: no error")
	}
	c = parseCRD(t, rowsCRD)
	c.Spec.Scope = apiextensionsv1.ClusterScoped
	served, _, err := crd.Rows(c, crd.WebhookOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range served {
		if r.Namespaced {
			t.Errorf("cluster-scoped CRD served namespaced at %s", r.Version)
		}
	}
}
