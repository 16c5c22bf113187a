package builtin

import (
	"maps"
	"path"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Validation of persistent volumes (k8s.io/kubernetes
// pkg/apis/core/validation ValidatePersistentVolume and
// pkg/volume/validation, v1.37), metadata excluded.

var supportedPVReclaimPolicies = sets.New(corev1.PersistentVolumeReclaimDelete,
	corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain)

// mountOptionAnnotation is upstream's api.MountOptionAnnotation.
const mountOptionAnnotation = "volume.beta.kubernetes.io/mount-options"

func validatePersistentVolume(o runtime.Object) field.ErrorList {
	pv := o.(*corev1.PersistentVolume)
	errs := validatePVSpec(&pv.Spec, pv.Name, field.NewPath("spec"))
	return append(errs, validatePVMountOptions(pv)...)
}

// validatePVSpec is upstream's ValidatePersistentVolumeSpec for a
// persistent volume (not an inline volume).
func validatePVSpec(s *corev1.PersistentVolumeSpec, pvName string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.AccessModes) == 0 {
		errs = append(errs, field.Required(p.Child("accessModes"), ""))
	}
	errs = append(errs, validateAccessModes(s.AccessModes, p.Child("accessModes"))...)
	errs = append(errs, validatePVCapacity(s.Capacity, p.Child("capacity"))...)
	if r := s.PersistentVolumeReclaimPolicy; r != "" && !supportedPVReclaimPolicies.Has(r) {
		errs = append(errs, field.NotSupported(p.Child("persistentVolumeReclaimPolicy"), r, sets.List(supportedPVReclaimPolicies)))
	}
	affinity := false
	if s.NodeAffinity != nil {
		affinity = true
		errs = append(errs, validateVolumeNodeAffinity(s.NodeAffinity, p.Child("nodeAffinity"))...)
	}
	errs = append(errs, validatePVSources(s, pvName, affinity, p)...)
	if s.HostPath != nil && path.Clean(s.HostPath.Path) == "/" && s.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle {
		errs = append(errs, field.Forbidden(p.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"))
	}
	if s.StorageClassName != "" {
		errs = append(errs, validateClassName(s.StorageClassName, p.Child("storageClassName"))...)
	}
	if m := s.VolumeMode; m != nil && !supportedVolumeModes.Has(*m) {
		errs = append(errs, field.NotSupported(p.Child("volumeMode"), *m, sets.List(supportedVolumeModes)))
	}
	if vac := s.VolumeAttributesClassName; vac != nil {
		if *vac == "" {
			errs = append(errs, field.Required(p.Child("volumeAttributesClassName"), "an empty string is disallowed"))
		} else {
			errs = append(errs, validateClassName(*vac, p.Child("volumeAttributesClassName"))...)
		}
		if s.CSI == nil {
			errs = append(errs, field.Required(p.Child("csi"), "has to be specified when using volumeAttributesClassName"))
		}
	}
	return errs
}

func validatePVCapacity(c corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(c) == 0 {
		errs = append(errs, field.Required(p, ""))
	}
	if _, ok := c[corev1.ResourceStorage]; !ok || len(c) > 1 {
		errs = append(errs, field.NotSupported(p, c, []corev1.ResourceName{corev1.ResourceStorage}))
	}
	for _, name := range sortedResourceNames(c) {
		q := c[name]
		kp := p.Key(string(name))
		if q.Value() < 0 {
			errs = append(errs, field.Invalid(kp, q.Value(), "must be a valid resource quantity"))
		}
		if q.Sign() <= 0 {
			errs = append(errs, field.Invalid(kp, q.String(), "must be greater than zero"))
		}
	}
	return errs
}

// validatePVMountOptions is upstream's volume validation: mount options
// only for the volume types that support them.
func validatePVMountOptions(pv *corev1.PersistentVolume) field.ErrorList {
	s := &pv.Spec
	if s.GCEPersistentDisk != nil || s.AWSElasticBlockStore != nil || s.Glusterfs != nil || s.NFS != nil ||
		s.RBD != nil || s.Quobyte != nil || s.ISCSI != nil || s.Cinder != nil || s.CephFS != nil ||
		s.AzureFile != nil || s.VsphereVolume != nil || s.AzureDisk != nil || s.PhotonPersistentDisk != nil {
		return nil
	}
	if _, ok := pv.Annotations[mountOptionAnnotation]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath("metadata", "annotations", mountOptionAnnotation), "may not specify mount options for this volume type")}
	}
	return nil
}

// validatePersistentVolumeUpdate is upstream's ValidatePersistentVolumeUpdate
// after the strategy's own ValidatePersistentVolume (the store runs it as
// validatePersistentVolume): upstream checks the volume a second time
// here, so its errors are reported twice; then the volume source and mode
// are immutable, and so is a node affinity once set.
func validatePersistentVolumeUpdate(o, old runtime.Object) field.ErrorList {
	pv, prev := o.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	errs := apivalidation.ValidateObjectMeta(&pv.ObjectMeta, false, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	errs = append(errs, validatePVSpec(&pv.Spec, pv.Name, field.NewPath("spec"))...)
	src := pv.Spec.PersistentVolumeSource
	if prev.Spec.CSI != nil && prev.Spec.CSI.ControllerExpandSecretRef == nil && src.CSI != nil && src.CSI.ControllerExpandSecretRef != nil {
		// A controller expand secret may be added.
		src = *src.DeepCopy()
		src.CSI.ControllerExpandSecretRef = nil
	}
	if !equality.Semantic.DeepEqual(src, prev.Spec.PersistentVolumeSource) {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "persistentvolumesource"),
			"spec.persistentvolumesource is immutable after creation\n"+specDiff(prev.Spec.PersistentVolumeSource, src)))
	}
	errs = append(errs, apivalidation.ValidateImmutableField(pv.Spec.VolumeMode, prev.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if prev.Spec.NodeAffinity != nil && !betaToGAEqualities.DeepEqual(pv.Spec.NodeAffinity, prev.Spec.NodeAffinity) {
		errs = append(errs, field.Invalid(field.NewPath("nodeAffinity"), internalJSON{pv.Spec.NodeAffinity},
			apivalidation.FieldImmutableErrorMsg+", except for updating from beta label to GA"))
	}
	if prev.Spec.VolumeAttributesClassName != nil && pv.Spec.VolumeAttributesClassName == nil {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "volumeAttributesClassName"), "update from non-nil value to nil is forbidden"))
	}
	return errs
}

func sortedResourceNames(c corev1.ResourceList) []corev1.ResourceName {
	return slices.Sorted(maps.Keys(c))
}

// betaToGALabel maps the beta node labels to their GA names: a volume's
// node affinity may move from the ones to the others.
var betaToGALabel = map[string]string{
	corev1.LabelFailureDomainBetaZone:   corev1.LabelTopologyZone,
	corev1.LabelFailureDomainBetaRegion: corev1.LabelTopologyRegion,
	"beta.kubernetes.io/os":             corev1.LabelOSStable,
	"beta.kubernetes.io/arch":           corev1.LabelArchStable,
	corev1.LabelInstanceType:            corev1.LabelInstanceTypeStable,
}

// betaToGAEqualities is upstream's getMaskNodeSelectorLabelChangeEqualities.
var betaToGAEqualities = func() conversion.Equalities {
	eqs := equality.Semantic.Copy()
	if err := eqs.AddFunc(func(n, o corev1.NodeSelectorRequirement) bool {
		if o.Key != n.Key && betaToGALabel[o.Key] == n.Key {
			o.Key = n.Key
		}
		return equality.Semantic.DeepEqual(n, o)
	}); err != nil {
		panic(err)
	}
	return eqs
}()

// validateVolumeNodeAffinity is upstream's validateVolumeNodeAffinity.
func validateVolumeNodeAffinity(a *corev1.VolumeNodeAffinity, p *field.Path) field.ErrorList {
	if a.Required == nil {
		return field.ErrorList{field.Required(p.Child("required"), "must specify required node constraints")}
	}
	return validateNodeSelector(a.Required, p.Child("required"))
}

// validateNodeSelector is upstream's ValidateNodeSelector (label values
// checked).
func validateNodeSelector(s *corev1.NodeSelector, p *field.Path) field.ErrorList {
	termsPath := p.Child("nodeSelectorTerms")
	if len(s.NodeSelectorTerms) == 0 {
		return field.ErrorList{field.Required(termsPath, "must have at least one node selector term")}
	}
	var errs field.ErrorList
	for i, term := range s.NodeSelectorTerms {
		errs = append(errs, validateNodeSelectorTerm(term, termsPath.Index(i))...)
	}
	return errs
}

// validateNodeSelectorTerm is upstream's ValidateNodeSelectorTerm.
func validateNodeSelectorTerm(term corev1.NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for j, req := range term.MatchExpressions {
		errs = append(errs, validateNodeSelectorRequirement(req, p.Child("matchExpressions").Index(j))...)
	}
	for j, req := range term.MatchFields {
		errs = append(errs, validateNodeFieldSelectorRequirement(req, p.Child("matchFields").Index(j))...)
	}
	return errs
}

func validateNodeSelectorRequirement(rq corev1.NodeSelectorRequirement, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch rq.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(rq.Values) == 0 {
			errs = append(errs, field.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(rq.Values) > 0 {
			errs = append(errs, field.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(rq.Values) != 1 {
			errs = append(errs, field.Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		}
	default:
		errs = append(errs, field.Invalid(p.Child("operator"), rq.Operator, "not a valid selector operator"))
	}
	errs = append(errs, metav1validation.ValidateLabelName(rq.Key, p.Child("key"))...)
	for i, v := range rq.Values {
		for _, msg := range registry.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(p.Child("values").Index(i), v, msg))
		}
	}
	return errs
}

func validateNodeFieldSelectorRequirement(rq corev1.NodeSelectorRequirement, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch rq.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(rq.Values) != 1 {
			errs = append(errs, field.Required(p.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	default:
		errs = append(errs, field.Invalid(p.Child("operator"), rq.Operator, "not a valid selector operator"))
	}
	if rq.Key != "metadata.name" {
		return append(errs, field.Invalid(p.Child("key"), rq.Key, "not a valid field selector key"))
	}
	for i, v := range rq.Values {
		for _, msg := range apivalidation.NameIsDNSSubdomain(v, false) {
			errs = append(errs, field.Invalid(p.Child("values").Index(i), v, msg))
		}
	}
	return errs
}
