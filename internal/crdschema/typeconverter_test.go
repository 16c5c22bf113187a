package crdschema_test

import (
	"os"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/crdschema"
	"github.com/regis-dev/regis/internal/openapi"
)

// TestTypeConverter builds server-side apply's type converter as upstream's
// buildOpenAPIModelsForApply does: the built-in models merged with the CRD's
// definitions of every version.
func TestTypeConverter(t *testing.T) {
	data, err := os.ReadFile("testdata/gadgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		t.Fatal(err)
	}
	crdschema.Default(crd)
	models, err := openapi.Models()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range crd.Spec.Versions {
		defs, err := crdschema.OpenAPIDefinitions(crd, v.Name, crdschema.OpenAPIOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range defs {
			models[name] = s
		}
	}
	tc, err := managedfields.NewTypeConverter(models, crd.Spec.PreserveUnknownFields)
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON([]byte(`{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a","labels":{"x":"y"}},
		"spec":{"name":"x","ports":[{"name":"a","port":1}],"tags":["a"],"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}},"extra":{"k":[1]}}}`)); err != nil {
		t.Fatal(err)
	}
	typed, err := tc.ObjectToTyped(obj)
	if err != nil {
		t.Fatal(err)
	}
	set, err := typed.ToFieldSet()
	if err != nil {
		t.Fatal(err)
	}
	// ports is a map keyed by name; metadata is ObjectMeta's (labels a map).
	for _, want := range []string{`.spec.ports[name="a"].port`, `.metadata.labels.x`, `.spec.template.metadata.name`} {
		found := false
		set.Iterate(func(p fieldpath.Path) {
			found = found || p.String() == want
		})
		if !found {
			t.Errorf("no %s in %s", want, set)
		}
	}
	bad := obj.DeepCopy()
	bad.Object["spec"].(map[string]any)["ports"] = "nope"
	if _, err := tc.ObjectToTyped(bad); err == nil {
		t.Error("a string where the schema has a list converted")
	}
}
