package crdschema

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

const typicalGadget = `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"gadget-1","namespace":"default","labels":{"app":"demo","tier":"backend"},"annotations":{"note":"typical"}},
"spec":{"name":"demo","color":"blue","replicas":3,"minReplicas":1,"ratio":2.5,"email":"ops@example.com","port":"http","tags":["a","b","c"],
"ports":[{"name":"http","port":80},{"name":"https","port":443}],"labels":{"team":"x"},"extra":{"any":{"thing":[1,2,3]}},"unknown":1},
"status":{"replicas":3,"selector":"app=demo","phase":"Ready"}}`

// BenchmarkCreate is what a create of a typical custom resource costs in
// this package: Prune, Default and Validate (OpenAPI schema, list types,
// embedded metadata and two CEL rules).
func BenchmarkCreate(b *testing.B) {
	s := compile(b, "gadgets.yaml")
	proto := object(b, typicalGadget)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		obj := runtime.DeepCopyJSON(proto)
		if _, err := s.Prune(obj); err != nil {
			b.Fatal(err)
		}
		s.Default(obj)
		if errs := s.Validate(ctx, obj, nil); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkUpdate is the same for an update: ratcheting and the oldSelf
// transition rule against the stored object.
func BenchmarkUpdate(b *testing.B) {
	s := compile(b, "gadgets.yaml")
	proto := object(b, typicalGadget)
	old := runtime.DeepCopyJSON(proto)
	if _, err := s.Prune(old); err != nil {
		b.Fatal(err)
	}
	s.Default(old)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		obj := runtime.DeepCopyJSON(proto)
		if _, err := s.Prune(obj); err != nil {
			b.Fatal(err)
		}
		s.Default(obj)
		if errs := s.Validate(ctx, obj, old); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkCompile is the cost of compiling a version's Schema (structural
// schema, validators, CEL programs), paid once per CRD generation.
func BenchmarkCompile(b *testing.B) {
	crd := loadCRD(b, "gadgets.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(crd, "v1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateCRD is the cost of checking a CRD with two CEL rules
// (upstream compiles them and estimates their cost).
func BenchmarkValidateCRD(b *testing.B) {
	crd := loadCRD(b, "gadgets.yaml")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if errs := ValidateCRD(ctx, crd); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}
