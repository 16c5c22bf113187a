package builtin_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/regis-dev/regis/internal/registry/builtin"
)

// New volumes and claims get kube-apiserver's phase and the finalizer of
// its StorageObjectInUseProtection admission plugin.
func TestVolumesOnCreate(t *testing.T) {
	for _, r := range builtin.Resources() {
		switch r.Resource {
		case "persistentvolumes":
			pv := &corev1.PersistentVolume{}
			r.Default(pv)
			r.PrepareForCreate(pv)
			if pv.Status.Phase != corev1.VolumePending || pv.Status.LastPhaseTransitionTime == nil ||
				len(pv.Finalizers) != 1 || pv.Finalizers[0] != "kubernetes.io/pv-protection" {
				t.Errorf("persistent volume: status %+v, finalizers %v", pv.Status, pv.Finalizers)
			}
		case "persistentvolumeclaims":
			pvc := &corev1.PersistentVolumeClaim{}
			pvc.Finalizers = []string{"kubernetes.io/pvc-protection"}
			r.Default(pvc)
			r.PrepareForCreate(pvc)
			if pvc.Status.Phase != corev1.ClaimPending || len(pvc.Finalizers) != 1 {
				t.Errorf("claim: status %+v, finalizers %v", pvc.Status, pvc.Finalizers)
			}
		}
	}
}
