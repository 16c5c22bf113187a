package apiserver

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// checkFieldLabels refuses a field selector naming a field the resource
// cannot select on, as upstream's list handler does before anything
// else: with the message of the resource's field label conversion
// function, or of the default one (metadata.name and metadata.namespace).
func checkFieldLabels(st *registry.Store, opts *metainternalversion.ListOptions) error {
	if opts.FieldSelector == nil {
		return nil
	}
	for _, req := range opts.FieldSelector.Requirements() {
		if req.Field == "metadata.namespace" && st.Resource().NoNamespaceFieldLabel {
			return apierrors.NewBadRequest(fieldLabelMessage(st.Resource().GroupVersionKind(), req.Field))
		}
		one := &metainternalversion.ListOptions{FieldSelector: fields.OneTermEqualSelector(req.Field, req.Value)}
		if _, err := st.Predicate(one); err != nil {
			if st.Resource().Custom { // upstream's custom resource handler's
				return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
			return apierrors.NewBadRequest(fieldLabelMessage(st.Resource().GroupVersionKind(), req.Field))
		}
	}
	return nil
}

// fieldLabelMessage is the error of upstream's field label conversion
// function of kind gvk for an unsupported label.
func fieldLabelMessage(gvk schema.GroupVersionKind, label string) string {
	switch gvk.GroupKind() {
	case schema.GroupKind{Kind: "Pod"}, schema.GroupKind{Kind: "Node"}, schema.GroupKind{Kind: "ReplicationController"},
		schema.GroupKind{Kind: "Event"}, schema.GroupKind{Kind: "Namespace"}, schema.GroupKind{Kind: "Secret"},
		schema.GroupKind{Kind: "Service"}, schema.GroupKind{Group: "events.k8s.io", Kind: "Event"},
		schema.GroupKind{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"},
		schema.GroupKind{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"},
		schema.GroupKind{Group: "certificates.k8s.io", Kind: "PodCertificateRequest"}:
		return fmt.Sprintf("field label not supported: %s", label)
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		return fmt.Sprintf("field label %q not supported for Job", label)
	case schema.GroupKind{Group: "resource.k8s.io", Kind: "ResourceSlice"}:
		return fmt.Sprintf("field label not supported for %s: %s", gvk, label)
	}
	return fmt.Sprintf("%q is not a known field selector: only %q, %q", label, "metadata.name", "metadata.namespace")
}
