package crd

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestConditions checks the NonStructuralSchema and
// KubernetesAPIApprovalPolicyConformant conditions of upstream's
// controllers.
func TestConditions(t *testing.T) {
	crd := &apiextensionsv1.CustomResourceDefinition{Spec: apiextensionsv1.CustomResourceDefinitionSpec{
		Group: "things.example.com",
		Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Schema: &apiextensionsv1.CustomResourceValidation{
			OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
				"spec": {}, // no type: not structural
			}},
		}}},
	}}
	c := nonStructuralCondition(crd)
	want := "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"
	if c == nil || c.Status != apiextensionsv1.ConditionTrue || c.Reason != "Violations" || c.Message != want {
		t.Errorf("non-structural condition %+v, want Violations %q", c, want)
	}
	crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = apiextensionsv1.JSONSchemaProps{Type: "object"}
	if c := nonStructuralCondition(crd); c != nil {
		t.Errorf("structural schema: condition %+v", c)
	}
	if c := approvalCondition(crd); c != nil {
		t.Errorf("approval condition of an example.com group: %+v", c)
	}
	crd.Spec.Group = "things.k8s.io"
	for _, tc := range []struct {
		annotation, status, reason, message string
	}{
		{"https://github.com/kubernetes/kubernetes/pull/78458", "True", "ApprovedAnnotation", "approved in https://github.com/kubernetes/kubernetes/pull/78458"},
		{"unapproved, experimental", "False", "UnapprovedAnnotation", `not approved: "unapproved, experimental"`},
		{"yes", "False", "InvalidAnnotation", `protected groups must have approval annotation "api-approved.kubernetes.io" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`},
	} {
		crd.ObjectMeta = metav1.ObjectMeta{Annotations: map[string]string{apiextensionsv1.KubeAPIApprovedAnnotation: tc.annotation}}
		c := approvalCondition(crd)
		if c == nil || string(c.Status) != tc.status || c.Reason != tc.reason || c.Message != tc.message {
			t.Errorf("annotation %q: %+v, want %s %s %q", tc.annotation, c, tc.status, tc.reason, tc.message)
		}
	}
}
