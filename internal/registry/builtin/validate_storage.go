package builtin

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Validation of persistent volume claims and storage classes (k8s.io/kubernetes
// pkg/apis/core/validation and pkg/apis/storage/validation, v1.37), metadata
// excluded (the store checks it). Persistent volumes are in
// validate_storage_pv.go.

// specDiff is upstream's diff.Diff of two internal values, as its
// "immutable" messages append it: both printed as the internal types
// (Go field names), indented by one space, in a unified diff with three
// lines of context.
func specDiff(old, new any) string {
	return diff.Diff(internalJSON{old}, internalJSON{new})
}

var supportedAccessModes = sets.New(corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod)

var supportedVolumeModes = sets.New(corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)

// validateAccessModes is the loop upstream's PV and PVC spec validations
// share: known modes, and ReadWriteOncePod alone.
func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	rwop, other := false, false
	for _, mode := range modes {
		if !supportedAccessModes.Has(mode) {
			errs = append(errs, field.NotSupported(path, mode, sets.List(supportedAccessModes)))
		}
		if mode == corev1.ReadWriteOncePod {
			rwop = true
		} else if supportedAccessModes.Has(mode) {
			other = true
		}
	}
	if rwop && other {
		errs = append(errs, field.Forbidden(path, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

// validateClassName is upstream's loop over ValidateClassName (a DNS
// subdomain) for storage and volume attributes class names.
func validateClassName(name string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range apivalidation.NameIsDNSSubdomain(name, false) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

func validatePersistentVolumeClaim(o runtime.Object) field.ErrorList {
	pvc := o.(*corev1.PersistentVolumeClaim)
	return validatePVCSpec(&pvc.Spec, field.NewPath("spec"))
}

// normalizedPVCSpec is the claim's spec as upstream's strategy leaves it
// before validation (preparePersistentVolumeClaim and its update use it): a dataSourceRef to another namespace dropped
// (CrossNamespaceVolumeDataSource is off) unless the stored claim has one,
// a dataSource other than a claim or a volume snapshot dropped when no
// dataSourceRef is given (unless the stored claim has a source), then
// dataSource and dataSourceRef filled from each other.
func normalizedPVCSpec(s, old *corev1.PersistentVolumeClaimSpec) corev1.PersistentVolumeClaimSpec {
	spec := *s.DeepCopy()
	if ref := spec.DataSourceRef; ref != nil && ref.Namespace != nil && *ref.Namespace != "" && (old == nil || old.DataSourceRef == nil) {
		spec.DataSourceRef = nil
	}
	oldInUse := old != nil && (old.DataSource != nil || old.DataSourceRef != nil)
	if !oldInUse && spec.DataSourceRef == nil && !isClaimOrSnapshot(spec.DataSource) {
		spec.DataSource = nil
	}
	normalizeDataSources(&spec)
	return spec
}

// normalizeDataSources is upstream's NormalizeDataSources.
func normalizeDataSources(spec *corev1.PersistentVolumeClaimSpec) {
	if spec.DataSource != nil && spec.DataSourceRef == nil {
		ds := spec.DataSource
		spec.DataSourceRef = &corev1.TypedObjectReference{APIGroup: ds.APIGroup, Kind: ds.Kind, Name: ds.Name}
	} else if ref := spec.DataSourceRef; ref != nil && spec.DataSource == nil && (ref.Namespace == nil || *ref.Namespace == "") {
		spec.DataSource = &corev1.TypedLocalObjectReference{APIGroup: ref.APIGroup, Kind: ref.Kind, Name: ref.Name}
	}
}

func isClaimOrSnapshot(ds *corev1.TypedLocalObjectReference) bool {
	if ds == nil {
		return false
	}
	group := ""
	if ds.APIGroup != nil {
		group = *ds.APIGroup
	}
	return (group == "" && ds.Kind == "PersistentVolumeClaim") ||
		(group == "snapshot.storage.k8s.io" && ds.Kind == "VolumeSnapshot")
}

// validatePVCSpec is upstream's ValidatePersistentVolumeClaimSpec. Upstream
// relaxes the label selector and API group checks on update when the
// stored claim already breaks them, which a claim validated on creation
// does not.
func validatePVCSpec(s *corev1.PersistentVolumeClaimSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.AccessModes) == 0 {
		errs = append(errs, field.Required(path.Child("accessModes"), "at least 1 access mode is required"))
	}
	if s.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector,
			metav1validation.LabelSelectorValidationOptions{},
			path.Child("selector"))...)
	}
	errs = append(errs, validateAccessModes(s.AccessModes, path.Child("accessModes"))...)
	storagePath := path.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := s.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(storagePath, ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(storagePath, q.String(), "must be greater than zero"))
	}
	if s.StorageClassName != nil && *s.StorageClassName != "" {
		errs = append(errs, validateClassName(*s.StorageClassName, path.Child("storageClassName"))...)
	}
	if s.VolumeMode != nil && !supportedVolumeModes.Has(*s.VolumeMode) {
		errs = append(errs, field.NotSupported(path.Child("volumeMode"), *s.VolumeMode, sets.List(supportedVolumeModes)))
	}
	errs = append(errs, validateDataSources(s, path)...)
	if s.VolumeAttributesClassName != nil && *s.VolumeAttributesClassName != "" {
		errs = append(errs, validateClassName(*s.VolumeAttributesClassName, path.Child("volumeAttributesClassName"))...)
	}
	return errs
}

func validateDataSources(s *corev1.PersistentVolumeClaimSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ds := s.DataSource; ds != nil {
		errs = append(errs, validateDataSourceRef(ds.APIGroup, ds.Kind, ds.Name, path.Child("dataSource"))...)
	}
	ref := s.DataSourceRef
	if ref != nil {
		refPath := path.Child("dataSourceRef")
		errs = append(errs, validateDataSourceRef(ref.APIGroup, ref.Kind, ref.Name, refPath)...)
		if ref.Namespace != nil && *ref.Namespace != "" {
			for _, msg := range apivalidation.ValidateNamespaceName(*ref.Namespace, false) {
				errs = append(errs, field.Invalid(refPath.Child("namespace"), *ref.Namespace, msg))
			}
		}
	}
	if ref != nil && ref.Namespace != nil && *ref.Namespace != "" {
		if s.DataSource != nil {
			errs = append(errs, field.Invalid(path, path.Child("dataSource"), "may not be specified when dataSourceRef.namespace is specified"))
		}
	} else if s.DataSource != nil && ref != nil {
		ds := s.DataSource
		if !reflect.DeepEqual(ds.APIGroup, ref.APIGroup) || ds.Kind != ref.Kind || ds.Name != ref.Name {
			errs = append(errs, field.Invalid(path, path.Child("dataSource"), "must match dataSourceRef"))
		}
	}
	return errs
}

// validateDataSourceRef is upstream's validateDataSource and the common
// part of validateDataSourceRef.
func validateDataSourceRef(group *string, kind, name string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	if kind == "" {
		errs = append(errs, field.Required(path.Child("kind"), ""))
	}
	apiGroup := ""
	if group != nil {
		apiGroup = *group
	}
	if apiGroup == "" && kind != "PersistentVolumeClaim" {
		errs = append(errs, field.Invalid(path, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"))
	}
	if apiGroup != "" {
		for _, msg := range registry.IsDNS1123Subdomain(apiGroup) {
			errs = append(errs, field.Invalid(path.Child("apiGroup"), apiGroup, msg))
		}
	}
	return errs
}

const betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

// validatePersistentVolumeClaimUpdate is the update part of upstream's
// ValidatePersistentVolumeClaimUpdate (the claim itself is checked by
// validatePersistentVolumeClaim): the spec is immutable but for a first
// volumeName, a storage class set from the beta annotation or from none,
// and, for bound claims, the requested storage and attributes class.
func validatePersistentVolumeClaimUpdate(o, old runtime.Object) field.ErrorList {
	pvc, prev := o.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	var errs field.ErrorList
	oldSpec := *prev.Spec.DeepCopy()
	normalizeDataSources(&oldSpec)
	oldClone, newClone := *oldSpec.DeepCopy(), *pvc.Spec.DeepCopy()
	if prev.Spec.VolumeName == "" {
		oldClone.VolumeName = newClone.VolumeName
	}
	if storageClassFromAnnotation(prev.Annotations, pvc.Annotations, prev.Spec.StorageClassName, pvc.Spec.StorageClassName) {
		newClone.StorageClassName = nil
	} else {
		meta := field.NewPath("metadata")
		if n, p := pvc.Annotations[betaStorageClassAnnotation], prev.Annotations[betaStorageClassAnnotation]; n != p {
			errs = append(errs, field.Invalid(meta.Child("annotations", betaStorageClassAnnotation), n, apivalidation.FieldImmutableErrorMsg))
		}
		if storageClassFromNil(prev.Annotations, prev.Spec.StorageClassName, pvc.Spec.StorageClassName) {
			newClone.StorageClassName = oldClone.StorageClassName
		}
	}
	bound := pvc.Status.Phase == corev1.ClaimBound
	if bound && newClone.Resources.Requests != nil {
		newClone.Resources.Requests[corev1.ResourceStorage] = prev.Spec.Resources.Requests[corev1.ResourceStorage]
	}
	if bound {
		newClone.VolumeAttributesClassName = oldClone.VolumeAttributesClassName
	}
	if !equality.Semantic.DeepEqual(newClone, oldClone) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"+specDiff(oldClone, newClone)))
	}
	errs = append(errs, validateClaimShrink(pvc, prev)...)
	errs = append(errs, apivalidation.ValidateImmutableField(pvc.Spec.VolumeMode, prev.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	return append(errs, validateClaimAttributesClassUpdate(pvc, prev)...)
}

// storageClassFromAnnotation is upstream's
// validateStorageClassUpgradeFromAnnotation.
func storageClassFromAnnotation(oldAnn, newAnn map[string]string, oldName, newName *string) bool {
	oldSC, oldOK := oldAnn[betaStorageClassAnnotation]
	newSC, newOK := newAnn[betaStorageClassAnnotation]
	return oldOK && oldName == nil && newName != nil && *newName == oldSC && (!newOK || newSC == oldSC)
}

// storageClassFromNil is upstream's validateStorageClassUpgradeFromNil.
func storageClassFromNil(oldAnn map[string]string, oldName, newName *string) bool {
	oldSC, oldOK := oldAnn[betaStorageClassAnnotation]
	return newName != nil && oldName == nil && (!oldOK || *newName == oldSC)
}

// validateClaimShrink refuses a smaller storage request, down to the
// capacity in the status (RecoverVolumeExpansionFailure is on in v1.37).
func validateClaimShrink(pvc, prev *corev1.PersistentVolumeClaim) field.ErrorList {
	newSize := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	oldSize := prev.Spec.Resources.Requests[corev1.ResourceStorage]
	statusSize := prev.Status.Capacity[corev1.ResourceStorage]
	if newSize.Cmp(oldSize) < 0 && newSize.Cmp(statusSize) <= 0 {
		return field.ErrorList{field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than status.capacity")}
	}
	return nil
}

func validateClaimAttributesClassUpdate(pvc, prev *corev1.PersistentVolumeClaim) field.ErrorList {
	n, p := pvc.Spec.VolumeAttributesClassName, prev.Spec.VolumeAttributesClassName
	if equality.Semantic.DeepEqual(n, p) || prev.Status.CurrentVolumeAttributesClassName == nil {
		return nil
	}
	path := field.NewPath("spec", "volumeAttributesClassName")
	if n == nil {
		return field.ErrorList{field.Forbidden(path, "update to nil is forbidden when status.currentVolumeAttributesClassName is not nil")}
	}
	if *n == "" {
		return field.ErrorList{field.Forbidden(path, "update to empty string is forbidden when status.currentVolumeAttributesClassName is not nil")}
	}
	return nil
}

const (
	maxProvisionerParameterSize = 256 * (1 << 10)
	maxProvisionerParameterLen  = 512
)

var (
	supportedClassReclaimPolicies = []string{string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRetain)}
	supportedVolumeBindingModes   = []string{string(storagev1.VolumeBindingImmediate), string(storagev1.VolumeBindingWaitForFirstConsumer)}
)

// validateStorageClass is upstream's ValidateStorageClass, with the
// required provisioner last, as the declarative validation that replaces
// upstream's handwritten check appends it.
func validateStorageClass(o runtime.Object) field.ErrorList {
	sc := o.(*storagev1.StorageClass)
	var errs field.ErrorList
	if sc.Provisioner != "" {
		for _, msg := range registry.IsQualifiedName(strings.ToLower(sc.Provisioner)) {
			errs = append(errs, field.Invalid(field.NewPath("provisioner"), strings.ToLower(sc.Provisioner), msg))
		}
	}
	errs = append(errs, validateClassParameters(sc.Parameters, field.NewPath("parameters"))...)
	if p := sc.ReclaimPolicy; p != nil && *p != "" && !sets.New(supportedClassReclaimPolicies...).Has(string(*p)) {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *p, supportedClassReclaimPolicies))
	}
	if m := sc.VolumeBindingMode; m == nil {
		errs = append(errs, field.Required(field.NewPath("volumeBindingMode"), ""))
	} else if !sets.New(supportedVolumeBindingModes...).Has(string(*m)) {
		errs = append(errs, field.NotSupported(field.NewPath("volumeBindingMode"), *m, supportedVolumeBindingModes))
	}
	errs = append(errs, validateAllowedTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
	if sc.Provisioner == "" {
		errs = append(errs, field.Required(field.NewPath("provisioner"), ""))
	}
	return errs
}

func validateClassParameters(params map[string]string, path *field.Path) field.ErrorList {
	if len(params) > maxProvisionerParameterLen {
		return field.ErrorList{field.TooLong(path, "", maxProvisionerParameterLen)}
	}
	var errs field.ErrorList
	size := 0
	for k, v := range params {
		if k == "" {
			errs = append(errs, field.Invalid(path, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxProvisionerParameterSize {
		errs = append(errs, field.TooLong(path, "", maxProvisionerParameterSize))
	}
	return errs
}

// validateStorageClassUpdate is the declarative validation that replaces
// upstream's ValidateStorageClassUpdate: the provisioner, parameters,
// reclaim policy and binding mode are immutable, reported without their
// value.
func validateStorageClassUpdate(o, old runtime.Object) field.ErrorList {
	sc, prev := o.(*storagev1.StorageClass), old.(*storagev1.StorageClass)
	var errs field.ErrorList
	immutable := func(name string, changed bool) {
		if changed {
			errs = append(errs, field.Invalid(field.NewPath(name), nil, apivalidation.FieldImmutableErrorMsg))
		}
	}
	immutable("provisioner", sc.Provisioner != prev.Provisioner)
	immutable("parameters", !equality.Semantic.DeepEqual(sc.Parameters, prev.Parameters))
	immutable("reclaimPolicy", !equality.Semantic.DeepEqual(sc.ReclaimPolicy, prev.ReclaimPolicy))
	immutable("volumeBindingMode", !equality.Semantic.DeepEqual(sc.VolumeBindingMode, prev.VolumeBindingMode))
	return errs
}

// validateAllowedTopologies is upstream's, whose duplicate check also
// compares each term with len(terms) empty ones (its slice is made with
// that length, then appended to): a term without expressions is reported
// a duplicate once for each.
func validateAllowedTopologies(terms []corev1.TopologySelectorTerm, path *field.Path) field.ErrorList {
	if len(terms) == 0 {
		return nil
	}
	var errs field.ErrorList
	seen := make([]map[string]sets.Set[string], len(terms))
	for i, term := range terms {
		exprs, termErrs := validateTopologySelectorTerm(term, path.Index(i))
		errs = append(errs, termErrs...)
		for _, t := range seen {
			if equality.Semantic.DeepEqual(exprs, t) {
				errs = append(errs, field.Duplicate(path.Index(i).Child("matchLabelExpressions"), ""))
			}
		}
		seen = append(seen, exprs)
	}
	return errs
}

// validateTopologySelectorTerm is upstream's ValidateTopologySelectorTerm.
func validateTopologySelectorTerm(term corev1.TopologySelectorTerm, path *field.Path) (map[string]sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	exprs := map[string]sets.Set[string]{}
	exprPath := path.Child("matchLabelExpressions")
	for i, req := range term.MatchLabelExpressions {
		p := exprPath.Index(i)
		values := sets.New[string]()
		valuesPath := p.Child("values")
		if len(req.Values) == 0 {
			errs = append(errs, field.Required(valuesPath, ""))
		}
		for j, v := range req.Values {
			if values.Has(v) {
				errs = append(errs, field.Duplicate(valuesPath.Index(j), v))
			}
			values.Insert(v)
		}
		errs = append(errs, metav1validation.ValidateLabelName(req.Key, p.Child("key"))...)
		if _, ok := exprs[req.Key]; ok {
			errs = append(errs, field.Duplicate(p.Child("key"), req.Key))
		}
		exprs[req.Key] = values
	}
	return exprs, errs
}
