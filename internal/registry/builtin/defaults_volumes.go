package builtin

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The protection finalizers kube-apiserver's StorageObjectInUseProtection
// admission plugin (on by default) adds to every new volume and claim.
const (
	pvProtectionFinalizer  = "kubernetes.io/pv-protection"
	pvcProtectionFinalizer = "kubernetes.io/pvc-protection"
)

// preparePersistentVolume is upstream's PrepareForCreate (status Pending,
// with the transition time) and the admission plugin's finalizer.
func preparePersistentVolume(o runtime.Object) {
	pv := o.(*corev1.PersistentVolume)
	now := metav1.Now().Rfc3339Copy()
	pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
	pv.Finalizers = addFinalizer(pv.Finalizers, pvProtectionFinalizer)
}

// preparePersistentVolumeClaim clears the status, whose phase reads back
// Pending (upstream defaults it when reading), and adds the finalizer.
func preparePersistentVolumeClaim(o runtime.Object) {
	pvc := o.(*corev1.PersistentVolumeClaim)
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
	pvc.Finalizers = addFinalizer(pvc.Finalizers, pvcProtectionFinalizer)
}

func addFinalizer(fs []string, f string) []string {
	for _, x := range fs {
		if x == f {
			return fs
		}
	}
	return append(fs, f)
}
