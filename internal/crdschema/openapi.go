package crdschema

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	openapiv2 "k8s.io/apiextensions-apiserver/pkg/controller/openapi/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/util/sets"
	builderutil "k8s.io/kube-openapi/pkg/builder3/util"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/regis-dev/regis/internal/crdschema/crdvalidation"
)

// The names upstream's builder uses (k8s.io/apiextensions-apiserver
// pkg/controller/openapi/builder, and k8s.io/apiserver's endpoints package
// for the extensions).
const (
	objectMetaSchemaRef = "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
	listMetaSchemaRef   = "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
	definitionPrefix    = "#/definitions/"
	v3DefinitionPrefix  = "#/components/schemas/"

	extensionGVK              = "x-kubernetes-group-version-kind"
	extensionSelectableFields = "x-kubernetes-selectable-fields"
)

var (
	typeMetaDescriptions                         = metav1.TypeMeta{}.SwaggerDoc()
	swaggerPartialObjectMetadataDescriptions     = metav1beta1.PartialObjectMetadata{}.SwaggerDoc()
	swaggerPartialObjectMetadataListDescriptions = metav1beta1.PartialObjectMetadataList{}.SwaggerDoc()
)

// OpenAPIOptions chooses what OpenAPIDefinitions builds.
type OpenAPIOptions struct {
	// V2 builds for /openapi/v2: refs under #/definitions/, the schema
	// converted by upstream's ToStructuralOpenAPIV2, and a bare object for
	// schemas that preserve unknown fields. Otherwise refs are under
	// #/components/schemas/ (/openapi/v3 and server-side apply).
	V2 bool
	// IncludeSelectableFields adds x-kubernetes-selectable-fields, as
	// upstream's OpenAPI controllers do (feature CustomResourceFieldSelectors).
	IncludeSelectableFields bool
}

// OpenAPIModelName is upstream's definition name of a CRD kind: the group
// reversed, then version and kind ("com.example.v1.Widget").
func OpenAPIModelName(group, version, kind string) string {
	parts := strings.Split(group, ".")
	slices.Reverse(parts)
	return fmt.Sprintf("%s.%s.%s", strings.Join(parts, "."), version, kind)
}

// OpenAPIDefinitions returns the two definitions upstream's builder
// (BuildOpenAPIV2/BuildOpenAPIV3) adds for one version of a CRD, keyed by
// OpenAPIModelName: the kind (the structural schema unfolded, with
// apiVersion, kind, metadata → ObjectMeta, embedded resources' type and
// object meta, x-kubernetes-group-version-kind) and its list, as they are
// in upstream's documents (v3: a $ref with a description wrapped in allOf,
// as builder3 does). The test compares them with upstream's builder. They refer to
// ObjectMeta and ListMeta, which the caller's built-in definitions provide.
//
// Server-side apply: upstream's type converter reads the built-in models
// merged with OpenAPIDefinitions(crd, v, OpenAPIOptions{}) of every version
// of the CRD (buildOpenAPIModelsForApply), passed to
// managedfields.NewTypeConverter(models, crd.Spec.PreserveUnknownFields).
func OpenAPIDefinitions(crd *apiextensionsv1.CustomResourceDefinition, version string, opts OpenAPIOptions) (map[string]*spec.Schema, error) {
	var st *structuralschema.Structural
	val, err := apihelpers.GetSchemaForVersion(crd, version)
	if err != nil {
		return nil, err
	}
	if val != nil && val.OpenAPIV3Schema != nil {
		internal := &apiextensionsinternal.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
			return nil, fmt.Errorf("failed converting CRD validation to internal version: %v", err)
		}
		if !crdvalidation.SchemaHasInvalidTypes(internal.OpenAPIV3Schema) {
			// Non-structural schemas publish a bare object, as upstream.
			if ss, err := structuralschema.NewStructural(internal.OpenAPIV3Schema); err == nil && len(structuralschema.ValidateStructural(nil, ss)) == 0 {
				st = ss.Unfold()
			}
		}
	}

	group, kind, listKind := crd.Spec.Group, crd.Spec.Names.Kind, crd.Spec.Names.ListKind
	gvk := func(k string) []any {
		return []any{map[string]any{"group": group, "version": version, "kind": k}}
	}
	ref := func(r string) string {
		if opts.V2 {
			return r
		}
		return strings.Replace(r, definitionPrefix, v3DefinitionPrefix, 1)
	}

	var kindSchema *spec.Schema
	switch {
	case st == nil:
		kindSchema = &spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"object"}}}
	case opts.V2 && (st.XPreserveUnknownFields || crd.Spec.PreserveUnknownFields):
		kindSchema = &spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"object"}}}
	default:
		if opts.V2 {
			st = openapiv2.ToStructuralOpenAPIV2(st)
		}
		kindSchema = st.ToKubeOpenAPI()
		kindSchema.SetProperty("metadata", *spec.RefSchema(ref(objectMetaSchemaRef)).WithDescription(swaggerPartialObjectMetadataDescriptions["metadata"]))
		addTypeMetaProperties(kindSchema)
		addEmbeddedProperties(kindSchema, opts, ref)
	}
	kindSchema.AddExtension(extensionGVK, gvk(kind))

	plural := crd.Spec.Names.Plural
	doc := fmt.Sprintf("List of %s. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", plural)
	listSchema := new(spec.Schema).
		Typed("object", "").
		WithDescription(fmt.Sprintf("%s is a list of %s", listKind, kind)).
		WithRequired("items").
		SetProperty("items", *spec.ArrayProperty(spec.RefSchema(ref(definitionPrefix + OpenAPIModelName(group, version, kind)))).WithDescription(doc)).
		SetProperty("metadata", *spec.RefSchema(ref(listMetaSchemaRef)).WithDescription(swaggerPartialObjectMetadataListDescriptions["metadata"]))
	addTypeMetaProperties(listSchema)
	listSchema.AddExtension(extensionGVK, gvk(listKind))

	if opts.IncludeSelectableFields {
		if fields := selectableFieldsExtension(crd, version); fields != nil {
			kindSchema.AddExtension(extensionSelectableFields, fields)
			listSchema.AddExtension(extensionSelectableFields, fields)
		}
	}
	if !opts.V2 {
		// builder3 wraps a $ref with siblings (a description) in allOf.
		kindSchema, listSchema = builderutil.WrapRefs(kindSchema), builderutil.WrapRefs(listSchema)
	}
	return map[string]*spec.Schema{
		OpenAPIModelName(group, version, kind):     kindSchema,
		OpenAPIModelName(group, version, listKind): listSchema,
	}, nil
}

func typeMetaProperty(name string) spec.Schema {
	return spec.Schema{SchemaProps: spec.SchemaProps{Description: typeMetaDescriptions[name], Type: []string{"string"}}}
}

func addTypeMetaProperties(s *spec.Schema) {
	s.SetProperty("apiVersion", typeMetaProperty("apiVersion"))
	s.SetProperty("kind", typeMetaProperty("kind"))
}

// addEmbeddedProperties is upstream's: embedded resources get apiVersion,
// kind (required) and metadata.
func addEmbeddedProperties(s *spec.Schema, opts OpenAPIOptions, ref func(string) string) {
	if s == nil {
		return
	}
	for k := range s.Properties {
		v := s.Properties[k]
		addEmbeddedProperties(&v, opts, ref)
		s.Properties[k] = v
	}
	if s.Items != nil {
		addEmbeddedProperties(s.Items.Schema, opts, ref)
	}
	if s.AdditionalProperties != nil {
		addEmbeddedProperties(s.AdditionalProperties.Schema, opts, ref)
	}
	if isTrue, ok := s.Extensions.GetBool("x-kubernetes-preserve-unknown-fields"); ok && isTrue && opts.V2 {
		return
	}
	if isTrue, ok := s.Extensions.GetBool("x-kubernetes-embedded-resource"); ok && isTrue {
		apiVersion, kind := typeMetaProperty("apiVersion"), typeMetaProperty("kind")
		s.SetProperty("apiVersion", *apiVersion.WithDescription(
			"apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"))
		s.SetProperty("kind", *kind.WithDescription(
			"kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"))
		s.SetProperty("metadata", *spec.RefSchema(ref(objectMetaSchemaRef)).WithDescription(swaggerPartialObjectMetadataDescriptions["metadata"]))
		req := sets.NewString(s.Required...)
		if !req.Has("kind") {
			s.Required = append(s.Required, "kind")
		}
		if !req.Has("apiVersion") {
			s.Required = append(s.Required, "apiVersion")
		}
	}
}

func selectableFieldsExtension(crd *apiextensionsv1.CustomResourceDefinition, version string) []any {
	for _, v := range crd.Spec.Versions {
		if v.Name != version || len(v.SelectableFields) == 0 {
			continue
		}
		fields := make([]any, len(v.SelectableFields))
		for i, sf := range v.SelectableFields {
			fields[i] = map[string]any{"fieldPath": strings.TrimPrefix(sf.JSONPath, ".")}
		}
		return fields
	}
	return nil
}
