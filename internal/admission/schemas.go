package admission

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// SchemaResolver gives a kind's OpenAPI schema, every $ref inlined.
type SchemaResolver interface {
	ResolveSchema(gvk schema.GroupVersionKind) (*spec.Schema, error)
}

// errNoSchema is a kind the server publishes no schema for.
var errNoSchema = errors.New("no schema")

// discoveryResolver reads schemas from a server's OpenAPI v3 documents
// (built-in kinds and custom resources alike), as upstream's
// ClientDiscoveryResolver (whose package pulls in the server's endpoint
// code, not allowed here).
type discoveryResolver struct{ disc discovery.DiscoveryInterface }

const schemaRefPrefix = "#/components/schemas/"

func (r discoveryResolver) ResolveSchema(gvk schema.GroupVersionKind) (*spec.Schema, error) {
	paths, err := r.disc.OpenAPIV3().Paths()
	if err != nil {
		return nil, err
	}
	path := "apis/" + gvk.Group + "/" + gvk.Version
	if gvk.Group == "" {
		path = "api/" + gvk.Version
	}
	gv, ok := paths[path]
	if !ok {
		return nil, fmt.Errorf("%s: %w", gvk.GroupVersion(), errNoSchema)
	}
	data, err := gv.Schema(runtime.ContentTypeJSON)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Components struct {
			Schemas map[string]*spec.Schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	for name, s := range doc.Components.Schemas {
		var gvks []schema.GroupVersionKind
		if err := s.Extensions.GetObject("x-kubernetes-group-version-kind", &gvks); err != nil {
			continue
		}
		for _, g := range gvks {
			if g == gvk {
				of := func(ref string) *spec.Schema { return doc.Components.Schemas[strings.TrimPrefix(ref, schemaRefPrefix)] }
				return inlineRefs(of, map[string]bool{schemaRefPrefix + name: true}, s), nil
			}
		}
	}
	return nil, fmt.Errorf("%s: %w", gvk, errNoSchema)
}

// inlineRefs returns s with every $ref (or allOf-wrapped $ref) replaced
// by the schema it names; a ref met again below itself (a cycle) becomes
// a plain object, and an unknown one is left as it is. s is not changed.
func inlineRefs(of func(string) *spec.Schema, seen map[string]bool, s *spec.Schema) *spec.Schema {
	out := *s
	if ref, ok := refOf(s); ok {
		if seen[ref] {
			return &spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"object"}}}
		}
		target := of(ref)
		if target == nil {
			return s
		}
		seen[ref] = true
		defer delete(seen, ref)
		out = *target
	}
	if len(out.Properties) > 0 {
		props := make(map[string]spec.Schema, len(out.Properties))
		for name, p := range out.Properties {
			props[name] = *inlineRefs(of, seen, &p)
		}
		out.Properties = props
	}
	if ap := out.AdditionalProperties; ap != nil && ap.Schema != nil {
		cp := *ap
		cp.Schema = inlineRefs(of, seen, ap.Schema)
		out.AdditionalProperties = &cp
	}
	if it := out.Items; it != nil && it.Schema != nil {
		cp := *it
		cp.Schema = inlineRefs(of, seen, it.Schema)
		out.Items = &cp
	}
	return &out
}

// refOf is a schema's $ref, also when wrapped in allOf to keep a
// description (kube-openapi's only use of allOf).
func refOf(s *spec.Schema) (string, bool) {
	if s.Ref.GetURL() != nil {
		return s.Ref.String(), true
	}
	for i := range s.AllOf {
		if ref, ok := refOf(&s.AllOf[i]); ok {
			return ref, true
		}
	}
	return "", false
}
