package builtin

import (
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// statusMetadata is what each upstream status strategy's PrepareForUpdate
// does to the metadata a /status write sends, for the resources whose
// strategy does not keep it all.
var statusMetadata = map[schema.GroupResource]func(obj, old runtime.Object){
	// podStatusStrategy: old kubelets corrupt owner references.
	{Resource: "pods"}: func(obj, old runtime.Object) {
		obj.(*corev1.Pod).OwnerReferences = old.(*corev1.Pod).OwnerReferences
	},
	// deploymentStatusStrategy: the labels stay.
	{Group: "apps", Resource: "deployments"}: func(obj, old runtime.Object) {
		obj.(*appsv1.Deployment).Labels = old.(*appsv1.Deployment).Labels
	},
	// The flow-control strategies keep the whole stored metadata.
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas"}:                 keepStoredMeta,
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "prioritylevelconfigurations"}: keepStoredMeta,
	// The newer strategies call metav1.ResetObjectMetaForStatus.
	{Group: "networking.k8s.io", Resource: "servicecidrs"}:                           resetMetaForStatus,
	{Group: "resource.k8s.io", Resource: "resourceclaims"}:                           resetMetaForStatus,
	{Group: "storage.k8s.io", Resource: "volumeattachments"}:                         resetMetaForStatus,
	{Group: "storage.k8s.io", Resource: "csinodes"}:                                  resetMetaForStatus,
	{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"}: resetMetaForStatus,
}

// statusResetsMeta: upstream's status strategy of these resets the
// metadata and the spec (GetResetFields), as ResetObjectMetaForStatus.
var statusResetsMeta = map[string][]string{"status": {"metadata", "spec"}}

// resetFields are upstream's strategies' GetResetFields where they differ
// from the common rule of registry.Resource.ResetFields.
var resetFields = map[schema.GroupResource]map[string][]string{
	{Resource: "pods"}:                       {"status": {"spec", "metadata.deletionTimestamp", "metadata.ownerReferences"}},
	{Group: "apps", Resource: "deployments"}: {"status": {"spec", "metadata.labels"}},
	{Resource: "namespaces"}:                 {"finalize": {"status"}},
	{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}: {
		"":         {"spec", "status"},
		"status":   {"spec", "status.conditions"},
		"approval": {"spec", "status.certificate"},
	},
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas"}:                 statusResetsMeta,
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "prioritylevelconfigurations"}: statusResetsMeta,
	{Group: "networking.k8s.io", Resource: "servicecidrs"}:                           statusResetsMeta,
	{Group: "resource.k8s.io", Resource: "resourceclaims"}:                           statusResetsMeta,
	{Group: "storage.k8s.io", Resource: "volumeattachments"}:                         statusResetsMeta,
	{Group: "storage.k8s.io", Resource: "csinodes"}:                                  statusResetsMeta,
	{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"}: statusResetsMeta,
	{Group: "apiregistration.k8s.io", Resource: "apiservices"}:                       statusResetsMeta,
	{Group: "storagemigration.k8s.io", Resource: "storageversionmigrations"}:         statusResetsMeta,
}

// withStatusMetadata sets the rows' PrepareForStatusUpdate and
// ResetFields.
func withStatusMetadata(rs []*registry.Resource) {
	for _, r := range rs {
		if f, ok := statusMetadata[r.GroupResource()]; ok && r.Status {
			r.PrepareForStatusUpdate = f
		}
		if f, ok := resetFields[r.GroupResource()]; ok {
			r.ResetFields = f
		}
	}
}

func resetMetaForStatus(obj, old runtime.Object) {
	metav1.ResetObjectMetaForStatus(obj.(metav1.Object), old.(metav1.Object))
}

// keepStoredMeta puts back the whole stored metadata but the resource
// version the write was made against.
func keepStoredMeta(obj, old runtime.Object) {
	rv := obj.(metav1.Object).GetResourceVersion()
	stored := reflect.ValueOf(old.DeepCopyObject()).Elem().FieldByName("ObjectMeta")
	reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta").Set(stored)
	obj.(metav1.Object).SetResourceVersion(rv)
}
