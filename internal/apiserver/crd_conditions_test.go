package apiserver_test

import (
	"context"
	"fmt"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// approvedCRD is in a protected group (*.k8s.io), approved by a URL.
const approvedCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.things.k8s.io
  annotations: {api-approved.kubernetes.io: "https://github.com/kubernetes/kubernetes/pull/78458"}
spec:
  group: things.k8s.io
  scope: Cluster
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
`

// TestCustomResourceDefinitionApprovalCondition checks upstream's
// KubernetesAPIApprovalPolicyConformant condition on a CRD of a
// protected group, and no NonStructuralSchema condition.
func TestCustomResourceDefinitionApprovalCondition(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	gadgets := schema.GroupVersionResource{Group: "things.k8s.io", Version: "v1", Resource: "gadgets"}
	applyCRDFile(t, s, k, "gadgets.things.k8s.io", approvedCRD, gadgets)
	ctx := context.Background()
	dc := dyn(t, s)
	eventually(t, "the approval condition", func() error {
		crd, err := getCRD(ctx, dc, "gadgets.things.k8s.io")
		if err != nil {
			return err
		}
		c := findCondition(crd, apiextensionsv1.KubernetesAPIApprovalPolicyConformant)
		if c == nil || c.Status != apiextensionsv1.ConditionTrue || c.Reason != "ApprovedAnnotation" ||
			c.Message != "approved in https://github.com/kubernetes/kubernetes/pull/78458" {
			return fmt.Errorf("condition %+v", c)
		}
		if c := findCondition(crd, apiextensionsv1.NonStructuralSchema); c != nil {
			return fmt.Errorf("NonStructuralSchema %+v on a structural schema", c)
		}
		return nil
	})
}
