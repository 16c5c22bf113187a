package crdschema

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	// Upstream's builder, as an oracle only: its closure reaches
	// k8s.io/apiserver's endpoints, which product code may not import.
	"k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// TestOpenAPIDefinitionsMatchUpstream compares the kind and list
// definitions with those of upstream's builder, for /openapi/v2 and v3.
func TestOpenAPIDefinitionsMatchUpstream(t *testing.T) {
	for _, file := range []string{"widgets.yaml", "gadgets.yaml", "legacy.yaml"} {
		crd := loadCRD(t, file)
		for _, v2 := range []bool{false, true} {
			opts := OpenAPIOptions{V2: v2, IncludeSelectableFields: true}
			got, err := OpenAPIDefinitions(crd, "v1", opts)
			if err != nil {
				t.Fatal(err)
			}
			upstreamOpts := builder.Options{V2: v2, IncludeSelectableFields: true}
			var want map[string]spec.Schema
			if v2 {
				sw, err := builder.BuildOpenAPIV2(crd, "v1", upstreamOpts)
				if err != nil {
					t.Fatal(err)
				}
				want = sw.Definitions
			} else {
				doc, err := builder.BuildOpenAPIV3(crd, "v1", upstreamOpts)
				if err != nil {
					t.Fatal(err)
				}
				want = map[string]spec.Schema{}
				for k, s := range doc.Components.Schemas {
					want[k] = *s
				}
			}
			if len(got) != 2 {
				t.Fatalf("%s: %d definitions", file, len(got))
			}
			for name, s := range got {
				w, ok := want[name]
				if !ok {
					t.Fatalf("%s v2=%v: upstream has no %s", file, v2, name)
				}
				if diff := cmp.Diff(jsonOf(t, w), jsonOf(t, s)); diff != "" {
					t.Errorf("%s v2=%v %s (-upstream +ours):\n%s", file, v2, name, diff)
				}
			}
		}
	}
}

func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
