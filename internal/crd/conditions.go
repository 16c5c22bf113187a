package crd

import (
	"context"
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// updateConditions sets the conditions upstream's NonStructuralSchema and
// KubernetesAPIApprovalPolicyConformant controllers maintain. changed
// says it wrote the CRD (which brings it back to sync).
func (c *Controller) updateConditions(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) (changed bool, err error) {
	want := map[apiextensionsv1.CustomResourceDefinitionConditionType]*apiextensionsv1.CustomResourceDefinitionCondition{
		apiextensionsv1.NonStructuralSchema:                   nonStructuralCondition(crd),
		apiextensionsv1.KubernetesAPIApprovalPolicyConformant: approvalCondition(crd),
	}
	stale := false
	for typ, cond := range want {
		old := apihelpers.FindCRDCondition(crd, typ)
		if cond == nil && old != nil || cond != nil && (old == nil || old.Status != cond.Status || old.Reason != cond.Reason || old.Message != cond.Message) {
			stale = true
		}
	}
	if !stale {
		return false, nil
	}
	err = c.updateStatus(ctx, crd.Name, func(cur *apiextensionsv1.CustomResourceDefinition) {
		for typ, cond := range want {
			if cond == nil {
				apihelpers.RemoveCRDCondition(cur, typ)
			} else {
				apihelpers.SetCRDCondition(cur, *cond)
			}
		}
	})
	return err == nil, ignoreGone(err)
}

// nonStructuralCondition is upstream's NonStructuralSchema condition: the
// violations of the structural schema rules (a CRD stored before they
// were enforced), nil when there are none.
func nonStructuralCondition(in *apiextensionsv1.CustomResourceDefinition) *apiextensionsv1.CustomResourceDefinitionCondition {
	cond := &apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.NonStructuralSchema, Status: apiextensionsv1.ConditionUnknown}
	var errs field.ErrorList
	if in.Spec.PreserveUnknownFields {
		errs = append(errs, field.Invalid(field.NewPath("spec", "preserveUnknownFields"), in.Spec.PreserveUnknownFields, "must be false"))
	}
	for i, v := range in.Spec.Versions {
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		internal := &apiextensions.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, internal, nil); err != nil {
			continue
		}
		s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
		if err != nil {
			cond.Reason = "StructuralError"
			cond.Message = fmt.Sprintf("failed to check validation schema for version %s: %v", v.Name, err)
			return cond
		}
		pth := field.NewPath("spec", "versions").Index(i).Child("schema", "openAPIV3Schema")
		errs = append(errs, structuralschema.ValidateStructural(pth, s)...)
	}
	if len(errs) == 0 {
		return nil
	}
	cond.Status = apiextensionsv1.ConditionTrue
	cond.Reason = "Violations"
	cond.Message = errs.ToAggregate().Error()
	return cond
}

// approvalCondition is upstream's KubernetesAPIApprovalPolicyConformant
// condition of a CRD in a *.k8s.io or *.kubernetes.io group, from its
// api-approved.kubernetes.io annotation; nil for other groups.
func approvalCondition(crd *apiextensionsv1.CustomResourceDefinition) *apiextensionsv1.CustomResourceDefinitionCondition {
	if !apihelpers.IsProtectedCommunityGroup(crd.Spec.Group) {
		return nil
	}
	cond := &apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.KubernetesAPIApprovalPolicyConformant}
	state, reason := apihelpers.GetAPIApprovalState(crd.Annotations)
	cond.Message = reason
	switch state {
	case apihelpers.APIApprovalInvalid:
		cond.Status, cond.Reason = apiextensionsv1.ConditionFalse, "InvalidAnnotation"
	case apihelpers.APIApprovalMissing:
		cond.Status, cond.Reason = apiextensionsv1.ConditionFalse, "MissingAnnotation"
	case apihelpers.APIApproved:
		cond.Status, cond.Reason = apiextensionsv1.ConditionTrue, "ApprovedAnnotation"
	case apihelpers.APIApprovalBypassed:
		cond.Status, cond.Reason = apiextensionsv1.ConditionFalse, "UnapprovedAnnotation"
	default:
		cond.Status, cond.Reason = apiextensionsv1.ConditionUnknown, "UnknownAnnotation"
	}
	return cond
}
