package crdschema

import (
	"context"
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/regis-dev/regis/internal/crdschema/crdvalidation"
)

// Default applies upstream's defaults of apiextensions.k8s.io/v1 to a CRD
// (singular and listKind names, conversion strategy None, webhook service
// port 443, status.storedVersions): what decoding a v1 CRD does upstream.
func Default(crd *apiextensionsv1.CustomResourceDefinition) {
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
}

// PrepareCRDForCreate is upstream's strategy.PrepareForCreate: the status is
// cleared, generation is 1 and the storage version is recorded in
// status.storedVersions.
func PrepareCRDForCreate(crd *apiextensionsv1.CustomResourceDefinition) {
	crd.Status = apiextensionsv1.CustomResourceDefinitionStatus{}
	crd.Generation = 1
	addStoredVersion(crd)
}

// PrepareCRDForUpdate is upstream's strategy.PrepareForUpdate: the status is
// kept from old, a change of spec bumps generation, and the storage version
// is added to status.storedVersions.
func PrepareCRDForUpdate(crd, old *apiextensionsv1.CustomResourceDefinition) {
	crd.Status = *old.Status.DeepCopy()
	newInternal, err1 := toInternal(crd)
	oldInternal, err2 := toInternal(old)
	changed := err1 != nil || err2 != nil || !apiequality.Semantic.DeepEqual(newInternal.Spec, oldInternal.Spec)
	if changed {
		crd.Generation = old.Generation + 1
	}
	addStoredVersion(crd)
}

// PrepareCRDForStatusUpdate is upstream's statusStrategy.PrepareForUpdate:
// the spec is kept from old (metadata is not reset, as upstream 1.37).
func PrepareCRDForStatusUpdate(crd, old *apiextensionsv1.CustomResourceDefinition) {
	crd.Spec = *old.Spec.DeepCopy()
}

func addStoredVersion(crd *apiextensionsv1.CustomResourceDefinition) {
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			if !apihelpers.IsStoredVersion(crd, v.Name) {
				crd.Status.StoredVersions = append(crd.Status.StoredVersions, v.Name)
			}
			break
		}
	}
}

// ValidateCRD is upstream's ValidateCustomResourceDefinition of a new CRD
// (metadata, names, versions, structural schemas, defaults, CEL rules and
// their cost, subresources, printer columns, selectable fields, conversion,
// API approval), with upstream's field paths and messages.
func ValidateCRD(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	in, err := toInternal(crd)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return crdvalidation.ValidateCustomResourceDefinition(ctx, in)
}

// ValidateCRDUpdate is upstream's ValidateCustomResourceDefinitionUpdate
// (with its ratcheting of what the old object already had).
func ValidateCRDUpdate(ctx context.Context, crd, old *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	in, err := toInternal(crd)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	oldIn, err := toInternal(old)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return crdvalidation.ValidateCustomResourceDefinitionUpdate(ctx, in, oldIn)
}

// ValidateCRDStatusUpdate is upstream's
// ValidateUpdateCustomResourceDefinitionStatus (metadata update and
// status.storedVersions).
func ValidateCRDStatusUpdate(ctx context.Context, crd, old *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	in, err := toInternal(crd)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	oldIn, err := toInternal(old)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return crdvalidation.ValidateUpdateCustomResourceDefinitionStatus(ctx, in, oldIn)
}

// WarningsOnCRDCreate is upstream's strategy.WarningsOnCreate: unrecognized
// formats and list-type sets of non-scalar items.
func WarningsOnCRDCreate(crd *apiextensionsv1.CustomResourceDefinition) []string {
	in, err := toInternal(crd)
	if err != nil {
		return nil
	}
	var warnings []string
	for _, format := range unrecognizedFormats(&in.Spec) {
		warnings = append(warnings, fmt.Sprintf("unrecognized format %q", format))
	}
	return append(warnings, nonScalarListTypeSetWarnings(&in.Spec)...)
}

// WarningsOnCRDUpdate is upstream's strategy.WarningsOnUpdate: the warnings
// of WarningsOnCRDCreate that old did not have already.
func WarningsOnCRDUpdate(crd, old *apiextensionsv1.CustomResourceDefinition) []string {
	in, err := toInternal(crd)
	if err != nil {
		return nil
	}
	oldIn, err := toInternal(old)
	if err != nil {
		return nil
	}
	var warnings []string
	oldFormats := sets.New(unrecognizedFormats(&oldIn.Spec)...)
	for _, format := range unrecognizedFormats(&in.Spec) {
		if !oldFormats.Has(format) {
			warnings = append(warnings, fmt.Sprintf("unrecognized format %q", format))
		}
	}
	seen := sets.New(nonScalarListTypeSetWarnings(&oldIn.Spec)...)
	for _, w := range nonScalarListTypeSetWarnings(&in.Spec) {
		if !seen.Has(w) {
			warnings = append(warnings, w)
		}
	}
	return warnings
}

func toInternal(crd *apiextensionsv1.CustomResourceDefinition) (*apiextensions.CustomResourceDefinition, error) {
	out := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, out, nil); err != nil {
		return nil, fmt.Errorf("converting the CustomResourceDefinition to the internal version: %w", err)
	}
	return out, nil
}

func eachSchema(spec *apiextensions.CustomResourceDefinitionSpec, fn func(*apiextensions.JSONSchemaProps) bool) {
	if spec.Validation != nil && spec.Validation.OpenAPIV3Schema != nil {
		crdvalidation.SchemaHas(spec.Validation.OpenAPIV3Schema, fn)
	}
	for _, v := range spec.Versions {
		if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			crdvalidation.SchemaHas(v.Schema.OpenAPIV3Schema, fn)
		}
	}
}

// unrecognizedFormats is upstream's getUnrecognizedFormatsInCRD.
func unrecognizedFormats(crdSpec *apiextensions.CustomResourceDefinitionSpec) []string {
	compatibilityVersion := environment.DefaultCompatibilityVersion()
	var formats []string
	eachSchema(crdSpec, func(s *apiextensions.JSONSchemaProps) bool {
		if len(s.Format) > 0 {
			specSchema := &spec.Schema{SchemaProps: spec.SchemaProps{Format: s.Format, Type: []string{s.Type}}}
			formats = append(formats, apiservervalidation.GetUnrecognizedFormats(specSchema, compatibilityVersion)...)
		}
		return false
	})
	return formats
}

// nonScalarListTypeSetWarnings is upstream's getNonScalarListTypeSetWarnings.
func nonScalarListTypeSetWarnings(crdSpec *apiextensions.CustomResourceDefinitionSpec) []string {
	seen := sets.New[string]()
	eachSchema(crdSpec, func(s *apiextensions.JSONSchemaProps) bool {
		if s.XListType != nil && *s.XListType == "set" && s.Items != nil && s.Items.Schema != nil {
			switch s.Items.Schema.Type {
			case "object", "array":
				seen.Insert(fmt.Sprintf("x-kubernetes-list-type: set for items of type %q is not supported by server-side apply or CEL validation rules", s.Items.Schema.Type))
			}
		}
		return false
	})
	return sets.List(seen)
}
