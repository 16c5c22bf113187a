package builtin

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Volumes and claims: upstream's defaulting (pkg/apis/core/v1 defaults.go
// and the generated defaulters), the strategies of
// pkg/registry/core/persistentvolume and persistentvolumeclaim with
// pkg/api/persistentvolumeclaim, and an admission plugin's finalizers
// (v1.37).

// The protection finalizers kube-apiserver's StorageObjectInUseProtection
// admission plugin (on by default) adds to every new volume and claim.
const (
	pvProtectionFinalizer  = "kubernetes.io/pv-protection"
	pvcProtectionFinalizer = "kubernetes.io/pvc-protection"
)

func defaultPersistentVolume(o runtime.Object) {
	pv := o.(*corev1.PersistentVolume)
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		pv.Spec.VolumeMode = ptr(corev1.PersistentVolumeFilesystem)
	}
	defaultPVSources(&pv.Spec.PersistentVolumeSource)
}

// defaultPVSources is the part of SetObjectDefaults_PersistentVolume that
// defaults the volume's source.
func defaultPVSources(s *corev1.PersistentVolumeSource) {
	if h := s.HostPath; h != nil && h.Type == nil {
		h.Type = ptr(corev1.HostPathUnset)
	}
	if r := s.RBD; r != nil {
		defaultRBD(&r.RBDPool, &r.RadosUser, &r.Keyring)
	}
	if s.ISCSI != nil && s.ISCSI.ISCSIInterface == "" {
		s.ISCSI.ISCSIInterface = "default"
	}
	if s.AzureDisk != nil {
		defaultAzureDisk(s.AzureDisk)
	}
	if s.ScaleIO != nil {
		defaultScaleIO(&s.ScaleIO.StorageMode, &s.ScaleIO.FSType)
	}
}

// defaultPodVolumeSources is the same for a pod's volumes
// (SetObjectDefaults_Pod and the templates').
func defaultPodVolumeSources(s *corev1.VolumeSource) {
	if r := s.RBD; r != nil {
		defaultRBD(&r.RBDPool, &r.RadosUser, &r.Keyring)
	}
	if s.ISCSI != nil && s.ISCSI.ISCSIInterface == "" {
		s.ISCSI.ISCSIInterface = "default"
	}
	if s.AzureDisk != nil {
		defaultAzureDisk(s.AzureDisk)
	}
	if s.ScaleIO != nil {
		defaultScaleIO(&s.ScaleIO.StorageMode, &s.ScaleIO.FSType)
	}
}

func defaultRBD(pool, user, keyring *string) {
	setIfEmpty(pool, "rbd")
	setIfEmpty(user, "admin")
	setIfEmpty(keyring, "/etc/ceph/keyring")
}

func defaultScaleIO(storageMode, fsType *string) {
	setIfEmpty(storageMode, "ThinProvisioned")
	setIfEmpty(fsType, "xfs")
}

func defaultAzureDisk(d *corev1.AzureDiskVolumeSource) {
	if d.CachingMode == nil {
		d.CachingMode = ptr(corev1.AzureDataDiskCachingReadWrite)
	}
	if d.FSType == nil {
		d.FSType = ptr("ext4")
	}
	if d.ReadOnly == nil {
		d.ReadOnly = ptr(false)
	}
	if d.Kind == nil {
		d.Kind = ptr(corev1.AzureSharedBlobDisk)
	}
}

func setIfEmpty(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func defaultPersistentVolumeClaim(o runtime.Object) {
	pvc := o.(*corev1.PersistentVolumeClaim)
	defaultPVCSpec(&pvc.Spec)
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
}

func defaultPVCSpec(s *corev1.PersistentVolumeClaimSpec) {
	if s.VolumeMode == nil {
		s.VolumeMode = ptr(corev1.PersistentVolumeFilesystem)
	}
}

// preparePersistentVolume is upstream's PrepareForCreate (status Pending,
// with the transition time) and the admission plugin's finalizer.
func preparePersistentVolume(o runtime.Object) {
	pv := o.(*corev1.PersistentVolume)
	now := metav1.Now().Rfc3339Copy()
	pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
	pv.Finalizers = addFinalizer(pv.Finalizers, pvProtectionFinalizer)
}

// preparePersistentVolumeClaim clears the status, whose phase reads back
// Pending (upstream defaults it when reading), adds the finalizer and
// normalizes the data sources as upstream's PrepareForCreate.
func preparePersistentVolumeClaim(o runtime.Object) {
	pvc := o.(*corev1.PersistentVolumeClaim)
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
	pvc.Finalizers = addFinalizer(pvc.Finalizers, pvcProtectionFinalizer)
	pvc.Spec = normalizedPVCSpec(&pvc.Spec, nil)
}

// preparePersistentVolumeClaimUpdate normalizes the data sources against
// the stored claim's, as upstream's PrepareForUpdate (which also
// normalizes the stored claim's; validatePersistentVolumeClaimUpdate does
// that on a copy).
func preparePersistentVolumeClaimUpdate(o, old runtime.Object) {
	pvc, prev := o.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	pvc.Spec = normalizedPVCSpec(&pvc.Spec, &prev.Spec)
}

func addFinalizer(fs []string, f string) []string {
	for _, x := range fs {
		if x == f {
			return fs
		}
	}
	return append(fs, f)
}
