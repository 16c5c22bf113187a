package builtin

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// The checks of the pod volume sources that persistent volumes do not
// share (upstream's validateSecretVolumeSource, validateKeyToPath,
// validateDownwardAPIVolumeSource, validateProjectionSources, ...). The
// user and mode fields of the alpha AtomicWriteVolumeUserFields and
// EmptyDirVolumeMode features are not checked: upstream drops them first.

const fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"

func validateEmptyDir(e *corev1.EmptyDirVolumeSource, p *field.Path) field.ErrorList {
	if e.SizeLimit != nil && e.SizeLimit.Cmp(resource.Quantity{}) < 0 {
		return field.ErrorList{field.Forbidden(p.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity")}
	}
	return nil
}

// validateLocalDescendingPath is upstream's: a relative path without "..".
func validateLocalDescendingPath(target string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(target) {
		errs = append(errs, field.Invalid(p, target, "must be a relative path"))
	}
	return append(errs, validatePathNoBacksteps(target, p)...)
}

// validateLocalNonReservedPath is upstream's ValidateLocalNonReservedPath:
// a local descending path that does not start with "..".
func validateLocalNonReservedPath(target string, p *field.Path) field.ErrorList {
	errs := validateLocalDescendingPath(target, p)
	if strings.HasPrefix(target, "..") && !strings.HasPrefix(target, "../") {
		errs = append(errs, field.Invalid(p, target, "must not start with '..'"))
	}
	return errs
}

func validateFileMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode > 0777 || *mode < 0) {
		return field.ErrorList{field.Invalid(p, *mode, fileModeErrorMsg)}
	}
	return nil
}

// validateProjectedFiles checks a secret or config map volume: its name
// (nameField), default mode and items.
func validateProjectedFiles(p *field.Path, nameField, name string, mode *int32, items []corev1.KeyToPath) field.ErrorList {
	errs := requireFields(p, nameField, name != "")
	errs = append(errs, validateFileMode(mode, p.Child("defaultMode"))...)
	for i := range items {
		errs = append(errs, validateKeyToPath(&items[i], p.Child("items").Index(i))...)
	}
	return errs
}

func validateKeyToPath(kp *corev1.KeyToPath, p *field.Path) field.ErrorList {
	errs := requireFields(p, "key", kp.Key != "", "path", kp.Path != "")
	errs = append(errs, validateLocalNonReservedPath(kp.Path, p.Child("path"))...)
	return append(errs, validateFileMode(kp.Mode, p.Child("mode"))...)
}

// validateDownwardAPIFiles is validateDownwardAPIVolumeSource (mode not
// nil) and the items of a projected one; paths, when not nil, collects
// the projected volume's paths, whose duplicates are refused at
// projected.
func validateDownwardAPIFiles(mode *int32, items []corev1.DownwardAPIVolumeFile, p *field.Path, paths *projectedPaths) field.ErrorList {
	errs := validateFileMode(mode, p.Child("defaultMode"))
	for i := range items {
		f := &items[i]
		errs = append(errs, validateDownwardAPIFile(f, p)...)
		if paths != nil && f.Path != "" {
			errs = append(errs, paths.add(f.Path, f.Path)...)
		}
	}
	return errs
}

var volumeDownwardAPIFields = sets.New("metadata.name", "metadata.namespace", "metadata.labels", "metadata.annotations", "metadata.uid")

// The resources a downward API volume may name (upstream's
// validContainerResourceFieldPathExpressions and the huge pages prefixes).
var (
	containerResourceFields = sets.New("limits.cpu", "limits.memory", "limits.ephemeral-storage",
		"requests.cpu", "requests.memory", "requests.ephemeral-storage")
	hugePagesFieldPrefixes = []string{"limits.hugepages-", "requests.hugepages-"}
)

// validateDownwardAPIFile is upstream's validateDownwardAPIVolumeFile; its
// errors are at the volume's path, as upstream's (it passes no index).
func validateDownwardAPIFile(f *corev1.DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	errs := requireFields(p, "path", f.Path != "")
	errs = append(errs, validateLocalNonReservedPath(f.Path, p.Child("path"))...)
	switch {
	case f.FieldRef != nil:
		errs = append(errs, validateObjectFieldSelector(f.FieldRef, volumeDownwardAPIFields, p.Child("fieldRef"))...)
		if f.ResourceFieldRef != nil {
			errs = append(errs, field.Invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		}
	case f.ResourceFieldRef != nil:
		errs = append(errs, validateVolumeResourceFieldRef(f.ResourceFieldRef, p.Child("resourceFieldRef"))...)
	default:
		errs = append(errs, field.Required(p, "one of fieldRef and resourceFieldRef is required"))
	}
	return append(errs, validateFileMode(f.Mode, p.Child("mode"))...)
}

// downwardAPIFields are the pod fields upstream's
// ConvertDownwardAPIFieldLabel knows (spec.host is the old spec.nodeName).
var downwardAPIFields = sets.New("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
	"metadata.uid", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName", "spec.schedulerName",
	"status.phase", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")

// validateObjectFieldSelector is upstream's: fields limits what a
// volume's or an env's field reference may name.
func validateObjectFieldSelector(fs *corev1.ObjectFieldSelector, fields sets.Set[string], p *field.Path) field.ErrorList {
	switch {
	case fs.APIVersion == "":
		return field.ErrorList{field.Required(p.Child("apiVersion"), "")}
	case fs.FieldPath == "":
		return field.ErrorList{field.Required(p.Child("fieldPath"), "")}
	case fs.APIVersion != "v1":
		return field.ErrorList{field.Invalid(p.Child("fieldPath"), fs.FieldPath,
			fmt.Sprintf("error converting fieldPath: unsupported pod version: %s", fs.APIVersion))}
	}
	internal, subscript, subscripted := splitSubscript(fs.FieldPath)
	switch {
	case subscripted && internal != "metadata.annotations" && internal != "metadata.labels":
		return field.ErrorList{field.Invalid(p.Child("fieldPath"), fs.FieldPath,
			"error converting fieldPath: field label does not support subscript: "+fs.FieldPath)}
	case !subscripted && internal == "spec.host":
		internal = "spec.nodeName"
	case !subscripted && !downwardAPIFields.Has(internal):
		return field.ErrorList{field.Invalid(p.Child("fieldPath"), fs.FieldPath,
			"error converting fieldPath: field label not supported: "+fs.FieldPath)}
	}
	if !subscripted {
		if !fields.Has(internal) {
			return field.ErrorList{field.NotSupported(p.Child("fieldPath"), internal, sets.List(fields))}
		}
		return nil
	}
	if internal == "metadata.annotations" {
		subscript = strings.ToLower(subscript)
	}
	var errs field.ErrorList
	for _, msg := range registry.IsQualifiedName(subscript) {
		errs = append(errs, field.Invalid(p, subscript, msg))
	}
	return errs
}

// splitSubscript is upstream's fieldpath.SplitMaybeSubscriptedPath:
// "metadata.labels['a']" is "metadata.labels" and "a".
func splitSubscript(fieldPath string) (string, string, bool) {
	if !strings.HasSuffix(fieldPath, "']") {
		return fieldPath, "", false
	}
	s := strings.TrimSuffix(fieldPath, "']")
	parts := strings.SplitN(s, "['", 2)
	if len(parts) < 2 || len(parts[0]) == 0 {
		return fieldPath, "", false
	}
	return parts[0], parts[1], true
}

// validateVolumeResourceFieldRef is upstream's
// validateContainerResourceFieldSelector for a volume, without the
// divisor's check.
func validateVolumeResourceFieldRef(fs *corev1.ResourceFieldSelector, p *field.Path) field.ErrorList {
	switch {
	case fs.ContainerName == "":
		return field.ErrorList{field.Required(p.Child("containerName"), "")}
	case fs.Resource == "":
		return field.ErrorList{field.Required(p.Child("resource"), "")}
	case containerResourceFields.Has(fs.Resource):
		return nil
	}
	for _, prefix := range hugePagesFieldPrefixes {
		if strings.HasPrefix(fs.Resource, prefix) {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(p.Child("resource"), fs.Resource, sets.List(containerResourceFields))}
}

func validateISCSIVolume(s *corev1.ISCSIVolumeSource, p *field.Path) field.ErrorList {
	errs := requireFields(p, "targetPortal", s.TargetPortal != "")
	if s.IQN == "" {
		errs = append(errs, field.Required(p.Child("iqn"), ""))
	} else if noPrefix, bad := badISCSIName(s.IQN); noPrefix {
		errs = append(errs, field.Invalid(p.Child("iqn"), s.IQN, "must be valid format starting with iqn, eui, or naa"))
	} else if bad {
		errs = append(errs, field.Invalid(p.Child("iqn"), s.IQN, "must be valid format"))
	}
	if s.Lun < 0 || s.Lun > 255 {
		errs = append(errs, field.Invalid(p.Child("lun"), s.Lun, validation.InclusiveRangeError(0, 255)))
	}
	if (s.DiscoveryCHAPAuth || s.SessionCHAPAuth) && s.SecretRef == nil {
		errs = append(errs, field.Required(p.Child("secretRef"), ""))
	}
	if s.InitiatorName != nil {
		switch noPrefix, bad := badISCSIName(*s.InitiatorName); {
		case noPrefix:
			errs = append(errs, field.Invalid(p.Child("initiatorname"), *s.InitiatorName, "must be valid format starting with iqn, eui, or naa"))
		case bad:
			errs = append(errs, field.Invalid(p.Child("initiatorname"), *s.InitiatorName, "must be valid format"))
		}
	}
	return errs
}

func validateStorageOSVolume(s *corev1.StorageOSVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.VolumeName == "" {
		errs = append(errs, field.Required(p.Child("volumeName"), ""))
	} else {
		errs = append(errs, validateDNS1123Label(s.VolumeName, p.Child("volumeName"))...)
	}
	if s.VolumeNamespace != "" {
		errs = append(errs, validateDNS1123Label(s.VolumeNamespace, p.Child("volumeNamespace"))...)
	}
	if s.SecretRef != nil && s.SecretRef.Name == "" {
		errs = append(errs, field.Required(p.Child("secretRef", "name"), ""))
	}
	return errs
}

func validateCSIVolume(c *corev1.CSIVolumeSource, p *field.Path) field.ErrorList {
	errs := validateCSIDriverName(c.Driver, p.Child("driver"))
	if ref := c.NodePublishSecretRef; ref != nil {
		if ref.Name == "" {
			errs = append(errs, field.Required(p.Child("nodePublishSecretRef", "name"), ""))
		}
		for _, msg := range validateDNSSubdomain(ref.Name) {
			if ref.Name != "" {
				errs = append(errs, field.Invalid(p.Child("name"), ref.Name, msg)) // upstream's path
			}
		}
	}
	return errs
}

func validateImageVolume(i *corev1.ImageVolumeSource, p *field.Path) field.ErrorList {
	errs := requireFields(p, "reference", i.Reference != "")
	switch i.PullPolicy {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	case "":
		errs = append(errs, field.Required(p.Child("pullPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(p.Child("pullPolicy"), i.PullPolicy,
			[]corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}))
	}
	return errs
}

// validateClaimTemplate is ValidatePersistentVolumeClaimTemplate without
// its check that only labels and annotations are set.
func validateClaimTemplate(t *corev1.PersistentVolumeClaimTemplate, p *field.Path) field.ErrorList {
	errs := apivalidation.ValidateAnnotations(t.Annotations, p.Child("metadata", "annotations"))
	errs = append(errs, metav1validation.ValidateLabels(t.Labels, p.Child("metadata", "labels"))...)
	return append(errs, validatePVCSpec(&t.Spec, p.Child("spec"))...)
}

func validateDNSSubdomain(name string) []string { return registry.IsDNS1123Subdomain(name) }
