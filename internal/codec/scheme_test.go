package codec

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// TestSchemeHasEveryClientGoType: client-go's scheme is the published list of
// built-in group-versions; ours must hold all of it.
func TestSchemeHasEveryClientGoType(t *testing.T) {
	ours := Scheme().AllKnownTypes()
	for gvk, typ := range clientgoscheme.Scheme.AllKnownTypes() {
		if got, ok := ours[gvk]; !ok {
			t.Errorf("%v (%v) is not registered", gvk, typ)
		} else if got != typ {
			t.Errorf("%v is %v, client-go has %v", gvk, got, typ)
		}
	}
}

// TestSchemeHasStorageVersions lists the storage versions kube-apiserver 1.37
// uses that are not the newest version of their group (reference §3.3).
func TestSchemeHasStorageVersions(t *testing.T) {
	kinds := []schema.GroupVersionKind{
		{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"},
		{Group: "coordination.k8s.io", Version: "v1beta1", Kind: "LeaseCandidate"},
		{Group: "certificates.k8s.io", Version: "v1beta1", Kind: "ClusterTrustBundle"},
		{Group: "certificates.k8s.io", Version: "v1beta1", Kind: "PodCertificateRequest"},
		{Group: "storagemigration.k8s.io", Version: "v1beta1", Kind: "StorageVersionMigration"},
		{Group: "resource.k8s.io", Version: "v1beta2", Kind: "DeviceTaintRule"},
		{Group: "resource.k8s.io", Version: "v1alpha3", Kind: "ResourcePoolStatusRequest"},
		{Group: "scheduling.k8s.io", Version: "v1beta1", Kind: "Workload"},
		{Group: "scheduling.k8s.io", Version: "v1beta1", Kind: "PodGroup"},
		{Group: "scheduling.k8s.io", Version: "v1alpha3", Kind: "CompositePodGroup"},
		{Group: "lifecycle.k8s.io", Version: "v1alpha1", Kind: "Eviction"},
		{Group: "lifecycle.k8s.io", Version: "v1alpha1", Kind: "EvictionRequest"},
		{Group: "internal.apiserver.k8s.io", Version: "v1alpha1", Kind: "StorageVersion"},
		{Group: "", Version: "v1", Kind: "RangeAllocation"},
		{Group: "", Version: "v1", Kind: "Endpoints"},
	}
	for _, gvk := range kinds {
		if !Scheme().Recognizes(gvk) {
			t.Errorf("%v is not registered", gvk)
		}
	}
}

func TestNewSchemeIsIndependent(t *testing.T) {
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	if s == Scheme() {
		t.Fatal("NewScheme returned the shared scheme")
	}
	if len(s.AllKnownTypes()) != len(Scheme().AllKnownTypes()) {
		t.Errorf("NewScheme has %d types, Scheme %d", len(s.AllKnownTypes()), len(Scheme().AllKnownTypes()))
	}
}
