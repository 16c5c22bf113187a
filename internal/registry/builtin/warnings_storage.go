package builtin

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The warnings about volumes and storage: upstream's pkg/api
// persistentvolume, persistentvolumeclaim and storage, and the CSI driver
// strategy.

// deprecatedPVAnnotations are the persistent volume annotations upstream
// warns about, in its order.
var deprecatedPVAnnotations = []struct{ key, message string }{
	{corev1.BetaStorageClassAnnotation, `deprecated since v1.8; use "storageClassName" attribute instead`},
	{corev1.MountOptionAnnotation, `deprecated since v1.31; use "mountOptions" attribute instead`},
}

// persistentVolumeWarnings is GetWarningsForPersistentVolume, on create
// and update: deprecated annotations, the Recycle policy, deprecated node
// labels in the node affinity and deprecated volume plugins.
func persistentVolumeWarnings(o runtime.Object) []string {
	pv := o.(*corev1.PersistentVolume)
	var w []string
	for _, d := range deprecatedPVAnnotations {
		if _, ok := pv.Annotations[d.key]; ok {
			w = append(w, fmt.Sprintf("%s: %s", field.NewPath("metadata", "annotations").Key(d.key), d.message))
		}
	}
	spec := &pv.Spec
	if spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle {
		w = append(w, "spec.persistentVolumeReclaimPolicy: The Recycle reclaim policy is deprecated. "+
			"Instead, the recommended approach is to use dynamic provisioning.")
	}
	if spec.NodeAffinity != nil && spec.NodeAffinity.Required != nil {
		terms := field.NewPath("spec", "nodeAffinity", "required", "nodeSelectorTerms")
		for i, term := range spec.NodeAffinity.Required.NodeSelectorTerms {
			w = append(w, nodeSelectorTermWarnings(term, false, terms.Index(i))...)
		}
	}
	for _, d := range []struct {
		set        bool
		name, what string
	}{
		{spec.CephFS != nil, "cephfs", "deprecated in v1.28, non-functional in v1.31+"},
		{spec.PhotonPersistentDisk != nil, "photonPersistentDisk", "deprecated in v1.11, non-functional in v1.16+"},
		{spec.ScaleIO != nil, "scaleIO", "deprecated in v1.16, non-functional in v1.22+"},
		{spec.StorageOS != nil, "storageOS", "deprecated in v1.22, non-functional in v1.25+"},
		{spec.Glusterfs != nil, "glusterfs", "deprecated in v1.25, non-functional in v1.26+"},
		{spec.RBD != nil, "rbd", "deprecated in v1.28, non-functional in v1.31+"},
	} {
		if d.set {
			w = append(w, fmt.Sprintf("spec.%s: %s", d.name, d.what))
		}
	}
	return w
}

// persistentVolumeClaimWarnings is GetWarningsForPersistentVolumeClaim, on
// create and update: the beta storage class annotation and fractional
// storage.
func persistentVolumeClaimWarnings(o runtime.Object) []string {
	pvc := o.(*corev1.PersistentVolumeClaim)
	var w []string
	if _, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		w = append(w, fmt.Sprintf("%s: %s", field.NewPath("metadata", "annotations").Key(corev1.BetaStorageClassAnnotation),
			`deprecated since v1.8; use "storageClassName" attribute instead`))
	}
	return append(w, pvcSpecWarnings(field.NewPath("spec"), &pvc.Spec)...)
}

// pvcSpecWarnings is GetWarningsForPersistentVolumeClaimSpec: fractional
// storage requests and limits.
func pvcSpecWarnings(path *field.Path, spec *corev1.PersistentVolumeClaimSpec) []string {
	w := fractionalWarning(path.Child("resources", "requests"), spec.Resources.Requests, corev1.ResourceStorage)
	return append(w, fractionalWarning(path.Child("resources", "limits"), spec.Resources.Limits, corev1.ResourceStorage)...)
}

// storageClassWarnings is GetWarningsForStorageClass, on create and
// update: deprecated node labels in the allowed topologies.
func storageClassWarnings(o runtime.Object) []string {
	var w []string
	for i, topo := range o.(*storagev1.StorageClass).AllowedTopologies {
		for j, expr := range topo.MatchLabelExpressions {
			if msg, ok := deprecatedNodeLabels[expr.Key]; ok {
				w = append(w, fmt.Sprintf("%s: %s",
					field.NewPath("allowedTopologies").Index(i).Child("matchLabelExpressions").Index(j).Child("key"), msg))
			}
		}
	}
	return w
}

// csiStorageCapacityWarnings is GetWarningsForCSIStorageCapacity, on
// create and update: deprecated node labels in the node topology.
func csiStorageCapacityWarnings(o runtime.Object) []string {
	return labelSelectorNodeWarnings(o.(*storagev1.CSIStorageCapacity).NodeTopology, field.NewPath("nodeTopology"))
}

// csiTokenSecretsWarning is the CSI driver strategy's advice for a driver
// that asks for tokens without saying where they go (the
// CSIServiceAccountTokenSecrets gate is on, and locked so, in 1.37).
const csiTokenSecretsWarning = "spec.serviceAccountTokenInSecrets is unset; if supported by this CSI driver, " +
	"set to true to prevent possible logging of tokens in volume attributes"

func csiDriverWarningsOnCreate(o runtime.Object) []string {
	spec := &o.(*storagev1.CSIDriver).Spec
	if len(spec.TokenRequests) > 0 && spec.ServiceAccountTokenInSecrets == nil {
		return []string{csiTokenSecretsWarning}
	}
	return nil
}

// csiDriverWarningsOnUpdate warns only when the token requests change.
func csiDriverWarningsOnUpdate(o, old runtime.Object) []string {
	if apiequality.Semantic.DeepEqual(o.(*storagev1.CSIDriver).Spec.TokenRequests, old.(*storagev1.CSIDriver).Spec.TokenRequests) {
		return nil
	}
	return csiDriverWarningsOnCreate(o)
}
