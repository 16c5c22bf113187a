package crdschema

import (
	"context"
	"testing"
)

// TestMultiVersion: versions with different schemas keep their own paths
// (spec.versions[i].schema) in CRD errors, and each version its own Schema.
func TestMultiVersion(t *testing.T) {
	crd := loadCRD(t, "multi.yaml")
	if errs := ValidateCRD(context.Background(), crd); len(errs) != 0 {
		t.Fatal(errs)
	}
	bad := crd.DeepCopy()
	p := bad.Spec.Versions[1].Schema.OpenAPIV3Schema.Properties["spec"]
	sz := p.Properties["size"]
	sz.Type = "int"
	p.Properties["size"] = sz
	bad.Spec.Versions[1].Schema.OpenAPIV3Schema.Properties["spec"] = p
	errs := ValidateCRD(context.Background(), bad)
	want := `spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[size].type: Unsupported value: "int": supported values: "array", "boolean", "integer", "number", "object", "string"`
	if len(errs) != 2 || errs[1].Error() != want {
		t.Fatalf("got %v\nwant %s", errs, want)
	}

	v1, err := Compile(crd, "v1")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := Compile(crd, "v2")
	if err != nil {
		t.Fatal(err)
	}
	o1 := object(t, `{"apiVersion":"example.com/v1","kind":"Thing","metadata":{"name":"a"},"spec":{"size":3}}`)
	o2 := object(t, `{"apiVersion":"example.com/v2","kind":"Thing","metadata":{"name":"a"},"spec":{}}`)
	v1.Default(o1)
	v2.Default(o2)
	if got := toJSON(t, o2["spec"]); got != `{"size":"M"}` {
		t.Errorf("v2 default: %s", got)
	}
	if errs := v1.Validate(context.Background(), o1, nil); len(errs) != 0 {
		t.Errorf("v1: %v", errs)
	}
	if errs := v2.Validate(context.Background(), o1, nil); len(errs) == 0 {
		t.Errorf("a v1 object passes v2's schema")
	}
	if _, err := Compile(crd, "v3"); err == nil {
		t.Error("compiled a version the CRD does not have")
	}
}

// TestLegacyPreserveUnknownFields: a CRD with spec.preserveUnknownFields
// and a non-structural schema keeps unknown fields and is still validated.
func TestLegacyPreserveUnknownFields(t *testing.T) {
	crd := loadCRD(t, "legacy.yaml")
	s, err := Compile(crd, "v1")
	if err != nil {
		t.Fatal(err)
	}
	obj := object(t, `{"apiVersion":"example.com/v1","kind":"Old","metadata":{"name":"a"},"spec":{"size":0,"other":1},"top":1}`)
	unknown, err := s.Prune(obj)
	if err != nil || len(unknown) != 0 {
		t.Fatalf("unknown %v, err %v", unknown, err)
	}
	s.Default(obj)
	if got := toJSON(t, obj); got != `{"apiVersion":"example.com/v1","kind":"Old","metadata":{"name":"a"},"spec":{"other":1,"size":0},"top":1}` {
		t.Errorf("pruned: %s", got)
	}
	errs := s.Validate(context.Background(), obj, nil)
	if len(errs) != 1 || errs[0].Error() != `spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1` {
		t.Errorf("errors %v", errs)
	}
}
