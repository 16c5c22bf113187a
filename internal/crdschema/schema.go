package crdschema

import (
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Schema is what one version of a CRD needs to coerce, default and validate
// its custom resources: upstream's structural schema (defaults pruned), its
// OpenAPI schema validators for the object and for status, its CEL
// validator, and the scale subresource's paths. A Schema is immutable and
// safe for concurrent use; compile it once per CRD generation and version.
type Schema struct {
	kind                  schema.GroupVersionKind
	preserveUnknownFields bool

	// structural is nil when the version has no schema or, with
	// spec.preserveUnknownFields, a non-structural one.
	structural      *structuralschema.Structural
	validator       apiservervalidation.SchemaValidator
	statusValidator apiservervalidation.SchemaValidator
	celValidator    *cel.Validator
	scale           *apiextensionsv1.CustomResourceSubresourceScale
	hasStatus       bool
}

// Compile builds the Schema of one version of a CRD, as upstream's
// crdHandler.getOrCreateServingInfoFor and customresource.NewStrategy do.
// The kind is status.acceptedNames.kind (spec.names.kind when no name is
// accepted yet). It fails only on a CRD that ValidateCRD refuses.
func Compile(crd *apiextensionsv1.CustomResourceDefinition, version string) (*Schema, error) {
	found := false
	for _, v := range crd.Spec.Versions {
		found = found || v.Name == version
	}
	if !found {
		return nil, fmt.Errorf("version %s not found in CustomResourceDefinition %s", version, crd.Name)
	}
	kind := crd.Status.AcceptedNames.Kind
	if kind == "" {
		kind = crd.Spec.Names.Kind
	}
	s := &Schema{
		kind:                  schema.GroupVersionKind{Group: crd.Spec.Group, Version: version, Kind: kind},
		preserveUnknownFields: crd.Spec.PreserveUnknownFields,
	}

	val, err := apihelpers.GetSchemaForVersion(crd, version)
	if err != nil {
		return nil, err
	}
	var internalSchema *apiextensions.JSONSchemaProps
	if val != nil {
		internal := &apiextensions.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
			return nil, fmt.Errorf("failed converting CRD validation to internal version: %v", err)
		}
		internalSchema = internal.OpenAPIV3Schema
		st, err := structuralschema.NewStructural(internalSchema)
		switch {
		case err != nil && !crd.Spec.PreserveUnknownFields:
			return nil, fmt.Errorf("the schema of version %s is not structural: %v", version, err)
		case err == nil && !crd.Spec.PreserveUnknownFields:
			st = st.DeepCopy()
			if err := structuraldefaulting.PruneDefaults(st); err != nil {
				return nil, fmt.Errorf("failed to prune defaults: %v", err)
			}
		}
		if err == nil {
			s.structural = st
		}
	}

	s.validator, _, err = apiservervalidation.NewSchemaValidator(internalSchema)
	if err != nil {
		return nil, err
	}
	subresources, err := apihelpers.GetSubresourcesForVersion(crd, version)
	if err != nil {
		return nil, err
	}
	if subresources != nil && subresources.Status != nil {
		s.hasStatus = true
		if internalSchema != nil && internalSchema.Properties != nil {
			if statusSchema, ok := internalSchema.Properties["status"]; ok {
				s.statusValidator, _, err = apiservervalidation.NewSchemaValidator(&statusSchema)
				if err != nil {
					return nil, err
				}
			}
		}
	}
	if subresources != nil && subresources.Scale != nil {
		s.scale = subresources.Scale.DeepCopy()
	}
	if s.structural != nil {
		// CEL programs are compiled here, once.
		s.celValidator = cel.NewValidator(s.structural, true, celconfig.PerCallLimit)
	}
	return s, nil
}

// GroupVersionKind is the kind of the custom resources this Schema checks.
func (s *Schema) GroupVersionKind() schema.GroupVersionKind { return s.kind }

// HasStatus tells whether the version declares the status subresource.
func (s *Schema) HasStatus() bool { return s.hasStatus }

// Default sets the schema's default values in obj, where fields are missing
// (and where they are null but not nullable), as upstream's
// structuraldefaulting.Default. Upstream defaults after decoding a request
// (after Prune) and after reading from storage (after PruneStored). Objects
// of another group or kind are left alone, as upstream's defaulter.
func (s *Schema) Default(obj map[string]any) {
	if s.structural == nil || obj == nil {
		return
	}
	u := unstructured.Unstructured{Object: obj}
	if u.GroupVersionKind().GroupKind() != s.kind.GroupKind() {
		return
	}
	structuraldefaulting.Default(obj, s.structural)
}
