package crdschema

import (
	"context"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// FuzzSchema feeds arbitrary JSON through what a request and a read from
// storage do (Prune or PruneStored, Default, Validate on create and update,
// ValidateStatus): none may panic. Run longer with
// go test ./internal/crdschema -run '^$' -fuzz FuzzSchema -fuzztime 1m
func FuzzSchema(f *testing.F) {
	for _, seed := range []string{
		`{"spec":{"name":"x","replicas":3,"minReplicas":1,"tags":["a"],"ports":[{"name":"a","port":1}]}}`,
		`{"metadata":{"name":"a","labels":{"a":"b"},"generation":"x"},"spec":{"template":{"apiVersion":1,"metadata":[]}}}`,
		`{"spec":{"name":null,"replicas":1.5,"minReplicas":"2","port":[],"labels":{"a":1},"ports":[{"name":1},{"name":1}]},"status":{"replicas":"x"}}`,
		`{"spec":[],"status":null,"metadata":null}`,
		`{"spec":{"tags":[[],{}],"ports":[null,{"name":{}}],"extra":{"a":[1,{"b":null}]}}}`,
	} {
		f.Add([]byte(seed), true)
	}
	s := compile(f, "gadgets.yaml")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte, typed bool) {
		var obj map[string]any
		if err := utiljson.Unmarshal(data, &obj); err != nil || obj == nil {
			return
		}
		if typed {
			obj["apiVersion"], obj["kind"] = "example.com/v1", "Gadget"
		}
		old := runtime.DeepCopyJSON(obj)
		if _, err := s.Prune(obj); err != nil {
			if err := s.PruneStored(obj); err != nil {
				return
			}
		}
		s.Default(obj)
		s.Validate(ctx, obj, nil)
		s.Validate(ctx, obj, old)
		s.ValidateStatus(ctx, obj, old)
	})
}

// FuzzCRD feeds arbitrary CRDs (JSON) to Default and ValidateCRD; a CRD it
// accepts must compile for every version and give OpenAPI definitions.
// Slow under the fuzzing engine (CEL compilation instrumented: seconds per
// input): go test ./internal/crdschema -run '^$' -fuzz FuzzCRD -fuzztime 5m
func FuzzCRD(f *testing.F) {
	for _, name := range []string{"widgets.yaml", "gadgets.yaml", "multi.yaml", "legacy.yaml"} {
		f.Add(toJSON(f, loadCRD(f, name)))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data string) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := utiljson.Unmarshal([]byte(data), crd); err != nil {
			return
		}
		Default(crd)
		if errs := ValidateCRD(ctx, crd); len(errs) > 0 {
			return
		}
		for _, v := range crd.Spec.Versions {
			if _, err := Compile(crd, v.Name); err != nil {
				t.Fatalf("valid CRD, version %s does not compile: %v", v.Name, err)
			}
			if _, err := OpenAPIDefinitions(crd, v.Name, OpenAPIOptions{}); err != nil {
				t.Fatalf("valid CRD, version %s has no OpenAPI: %v", v.Name, err)
			}
		}
	})
}
