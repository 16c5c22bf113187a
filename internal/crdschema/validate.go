package crdschema

import (
	"context"
	"fmt"
	"math"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apiextensionsfeatures "k8s.io/apiextensions-apiserver/pkg/features"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/common"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// Validate checks a custom resource as upstream's customResourceStrategy
// Validate (old == nil, a create) or ValidateUpdate (old != nil): apiVersion
// and kind, the OpenAPI schema (types, required, enum, pattern, formats,
// bounds, nullable, int-or-string, ...), the scale subresource's replicas
// paths, embedded resources' metadata, list-type set and map keys, and the
// CEL x-kubernetes-validations rules within upstream's cost budget, with
// transition rules (oldSelf) and ratcheting on update. CEL rules are not run
// when a blocking error (type, required, enum, too long, too many) is found,
// as upstream.
//
// The object's own metadata is not checked here: upstream's
// customResourceValidator checks it with ValidateObjectMeta (names as DNS
// subdomains), which regis's generic store does for every resource.
func (s *Schema) Validate(ctx context.Context, obj, old map[string]any) field.ErrorList {
	if errs := s.validateTypeMeta(obj); len(errs) > 0 {
		return errs
	}
	var errs field.ErrorList
	if old == nil {
		errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, s.validator)...)
		errs = append(errs, s.validateScaleSpec(obj)...)
		errs = append(errs, s.validateScaleStatus(obj)...)
		errs = append(errs, schemaobjectmeta.Validate(ctx, nil, obj, s.structural, false)...)
		errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, obj)...)
		return s.validateCEL(ctx, errs, obj, nil)
	}

	var options []apiservervalidation.ValidationOption
	var celOptions []cel.Option
	if utilfeature.DefaultFeatureGate.Enabled(apiextensionsfeatures.CRDValidationRatcheting) {
		correlated := common.NewCorrelatedObject(obj, old, &model.Structural{Structural: s.structural})
		options = append(options, apiservervalidation.WithRatcheting(correlated))
		celOptions = append(celOptions, cel.WithRatcheting(correlated))
	}
	errs = append(errs, apiservervalidation.ValidateCustomResourceUpdate(nil, obj, old, s.validator, options...)...)
	errs = append(errs, s.validateScaleSpec(obj)...)
	errs = append(errs, s.validateScaleStatus(obj)...)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, obj, s.structural, false)...)
	// list-type set and map keys ratchet: only checked when old passed them.
	if oldErrs := structurallisttype.ValidateListSetsAndMaps(nil, s.structural, old); len(oldErrs) == 0 {
		errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, obj)...)
	}
	return s.validateCEL(ctx, errs, obj, old, celOptions...)
}

// ValidateStatus checks an update through the status subresource as
// upstream's statusStrategy.ValidateUpdate: apiVersion and kind, status
// against the schema of .status (ratcheting), the scale subresource's status
// paths, list-type sets and maps (when old had no such error), and the CEL
// rules of the whole object.
func (s *Schema) ValidateStatus(ctx context.Context, obj, old map[string]any) field.ErrorList {
	if errs := s.validateTypeMeta(obj); len(errs) > 0 {
		return errs
	}
	var options []apiservervalidation.ValidationOption
	var celOptions []cel.Option
	if utilfeature.DefaultFeatureGate.Enabled(apiextensionsfeatures.CRDValidationRatcheting) {
		correlated := common.NewCorrelatedObject(obj, old, &model.Structural{Structural: s.structural})
		if s.structural != nil {
			options = append(options, apiservervalidation.WithRatcheting(correlated.Key("status")))
		}
		celOptions = append(celOptions, cel.WithRatcheting(correlated))
	}
	var errs field.ErrorList
	if status, hasStatus := obj["status"]; hasStatus {
		errs = append(errs, apiservervalidation.ValidateCustomResourceUpdate(field.NewPath("status"), status, old["status"], s.statusValidator, options...)...)
	}
	errs = append(errs, s.validateScaleStatus(obj)...)
	if newErrs := structurallisttype.ValidateListSetsAndMaps(nil, s.structural, obj); len(newErrs) > 0 {
		if oldErrs := structurallisttype.ValidateListSetsAndMaps(nil, s.structural, old); len(oldErrs) == 0 {
			errs = append(errs, newErrs...)
		}
	}
	return s.validateCEL(ctx, errs, obj, old, celOptions...)
}

func (s *Schema) validateCEL(ctx context.Context, errs field.ErrorList, obj, old map[string]any, opts ...cel.Option) field.ErrorList {
	if s.celValidator == nil {
		return errs
	}
	if blocking, err := hasBlockingErr(errs); blocking {
		return append(errs, err)
	}
	var oldObj any
	if old != nil {
		oldObj = old
	}
	celErrs, _ := s.celValidator.Validate(ctx, nil, s.structural, obj, oldObj, celconfig.RuntimeCELCostBudget, opts...)
	return append(errs, celErrs...)
}

// hasBlockingErr is upstream's: OpenAPI type, maxLength, maxItems,
// maxProperties, required and enum failures stop the CEL rules.
func hasBlockingErr(errs field.ErrorList) (bool, *field.Error) {
	for _, err := range errs {
		if err.Type == field.ErrorTypeNotSupported || err.Type == field.ErrorTypeRequired || err.Type == field.ErrorTypeTooLong || err.Type == field.ErrorTypeTooMany || err.Type == field.ErrorTypeTypeInvalid {
			return true, field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return false, nil
}

// validateTypeMeta is upstream's customResourceValidator.ValidateTypeMeta.
func (s *Schema) validateTypeMeta(obj map[string]any) field.ErrorList {
	u := &unstructured.Unstructured{Object: obj}
	var errs field.ErrorList
	if u.GetKind() != s.kind.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), u.GetKind(), fmt.Sprintf("must be %v", s.kind.Kind)))
	}
	if want := s.kind.Group + "/" + s.kind.Version; u.GetAPIVersion() != want {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), fmt.Sprintf("must be %v", want)))
	}
	return errs
}

// validateScaleSpec is upstream's customResourceValidator.ValidateScaleSpec.
func (s *Schema) validateScaleSpec(obj map[string]any) field.ErrorList {
	if s.scale == nil {
		return nil
	}
	return validateReplicas(obj, s.scale.SpecReplicasPath)
}

// validateScaleStatus is upstream's customResourceValidator.ValidateScaleStatus.
func (s *Schema) validateScaleStatus(obj map[string]any) field.ErrorList {
	if s.scale == nil {
		return nil
	}
	errs := validateReplicas(obj, s.scale.StatusReplicasPath)
	if s.scale.LabelSelectorPath != nil {
		p := strings.TrimPrefix(*s.scale.LabelSelectorPath, ".")
		selector, _, err := unstructured.NestedString(obj, strings.Split(p, ".")...)
		if err != nil {
			errs = append(errs, field.Invalid(field.NewPath(*s.scale.LabelSelectorPath), selector, err.Error()))
		}
	}
	return errs
}

func validateReplicas(obj map[string]any, path string) field.ErrorList {
	p := strings.TrimPrefix(path, ".")
	replicas, _, err := unstructured.NestedInt64(obj, strings.Split(p, ".")...)
	switch {
	case err != nil:
		return field.ErrorList{field.Invalid(field.NewPath(path), replicas, err.Error())}
	case replicas < 0:
		return field.ErrorList{field.Invalid(field.NewPath(path), replicas, "should be a non-negative integer")}
	case replicas > math.MaxInt32:
		return field.ErrorList{field.Invalid(field.NewPath(path), replicas, fmt.Sprintf("should be less than or equal to %v", math.MaxInt32))}
	}
	return nil
}
