package crdschema

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	// Upstream's table convertor, as an oracle only.
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestTableConvertorMatchesUpstream(t *testing.T) {
	crd := loadCRD(t, "gadgets.yaml")
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "GadgetList", "metadata": map[string]any{"resourceVersion": "7"}}}
	for _, js := range []string{
		`{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a","creationTimestamp":"2026-01-02T03:04:05Z"},"spec":{"name":"x","color":"blue","replicas":3}}`,
		`{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"b"},"spec":{"name":"y","replicas":"three"}}`,
	} {
		list.Items = append(list.Items, unstructured.Unstructured{Object: object(t, js)})
	}
	for _, cols := range []func() ([]any, error){
		func() ([]any, error) { c, err := ColumnsForVersion(crd, "v1"); return []any{c}, err },
		func() ([]any, error) { c, err := ScaleColumnsForVersion(crd, "v1"); return []any{c}, err },
	} {
		c, err := cols()
		if err != nil {
			t.Fatal(err)
		}
		columns := c[0].([]apiextensionsv1.CustomResourceColumnDefinition)
		ours, err := NewTableConvertor(columns)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := tableconvertor.New(columns)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range []runtime.Object{list, &list.Items[0]} {
			got, err := ours.ConvertToTable(context.Background(), obj, &metav1.TableOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := theirs.ConvertToTable(context.Background(), obj, &metav1.TableOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(jsonOf(t, want), jsonOf(t, got)); diff != "" {
				t.Errorf("(-upstream +ours):\n%s", diff)
			}
		}
	}
}

func TestSelectableFields(t *testing.T) {
	sf := NewSelectableFields(loadCRD(t, "gadgets.yaml"), "v1")
	if got := sf.Names(); len(got) != 1 || got[0] != "spec.color" {
		t.Errorf("names %v", got)
	}
	for js, want := range map[string]string{
		`{"spec":{"color":"blue"}}`: "blue",
		`{"spec":{}}`:               "",
		`{"spec":{"color":null}}`:   "",
	} {
		got, err := sf.Values(object(t, `{"apiVersion":"example.com/v1","kind":"Gadget",`+js[1:]))
		if err != nil {
			t.Fatal(err)
		}
		if got["spec.color"] != want {
			t.Errorf("%s: %q, want %q", js, got["spec.color"], want)
		}
	}
}
