package apiserver

import (
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The validation of access reviews (k8s.io/kubernetes
// pkg/apis/authorization/validation). Upstream validates its internal
// types, which have no JSON tags: the invalid values are rendered with
// their Go field names, as nonResourceInternal does.

// nonResourceInternal renders NonResourceAttributes as upstream's
// internal type is rendered in messages.
type nonResourceInternal struct {
	Path string
	Verb string
}

func internalNonResource(nra *authorizationv1.NonResourceAttributes) *nonResourceInternal {
	if nra == nil {
		return nil
	}
	return &nonResourceInternal{Path: nra.Path, Verb: nra.Verb}
}

func invalid(path string, value any, detail string) *field.Error {
	return field.Invalid(field.NewPath(path), value, detail)
}

// validateAccessReviewSpec is ValidateSubjectAccessReviewSpec (subject
// true) or ValidateSelfSubjectAccessReviewSpec.
func validateAccessReviewSpec(spec *authorizationv1.SubjectAccessReviewSpec, subject bool) field.ErrorList {
	var errs field.ErrorList
	if spec.ResourceAttributes != nil && spec.NonResourceAttributes != nil {
		errs = append(errs, invalid("spec.nonResourceAttributes", internalNonResource(spec.NonResourceAttributes), "cannot be specified in combination with resourceAttributes"))
	}
	if spec.ResourceAttributes == nil && spec.NonResourceAttributes == nil {
		errs = append(errs, invalid("spec.resourceAttributes", internalNonResource(spec.NonResourceAttributes), "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if subject && spec.User == "" && len(spec.Groups) == 0 {
		errs = append(errs, invalid("spec.user", spec.User, "at least one of user or group must be specified"))
	}
	if ra := spec.ResourceAttributes; ra != nil {
		fp := field.NewPath("spec.resourceAttributes")
		if fs := ra.FieldSelector; fs != nil {
			errs = append(errs, validateSelector(fs.RawSelector, len(fs.Requirements), fp.Child("fieldSelector"))...)
			for i, r := range fs.Requirements {
				errs = append(errs, metav1validation.ValidateFieldSelectorRequirement(r,
					metav1validation.FieldSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}, fp.Child("fieldSelector", "requirements").Index(i))...)
			}
		}
		if ls := ra.LabelSelector; ls != nil {
			errs = append(errs, validateSelector(ls.RawSelector, len(ls.Requirements), fp.Child("labelSelector"))...)
			for i, r := range ls.Requirements {
				errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(r,
					metav1validation.LabelSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}, fp.Child("labelSelector", "requirements").Index(i))...)
			}
		}
	}
	return errs
}

// validateSelector checks a field or label selector's form: a raw
// selector or requirements, one of them.
func validateSelector(raw string, requirements int, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if raw != "" && requirements > 0 {
		errs = append(errs, field.Invalid(fp.Child("rawSelector"), raw, "may not specified at the same time as requirements"))
	}
	if raw == "" && requirements == 0 {
		errs = append(errs, field.Required(fp.Child("requirements"), fmt.Sprintf("when %s is specified, requirements or rawSelector is required", fp)))
	}
	return errs
}

func metaMustBeEmpty(m metav1.ObjectMeta, detail string) *field.Error {
	return invalid("metadata", m, detail)
}

// reviewInvalid is upstream's 422 of a review.
func reviewInvalid(kind string, errs field.ErrorList) error {
	return apierrors.NewInvalid(authorizationv1.SchemeGroupVersion.WithKind(kind).GroupKind(), "", errs)
}
