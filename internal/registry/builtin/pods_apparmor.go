package builtin

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AppArmor: upstream's pod strategy copies the deprecated per-container
// annotations into the containers' fields on create
// (applyAppArmorVersionSkew), and its validation checks the annotations,
// the fields and that they agree.

// applyAppArmorVersionSkew is upstream's: a container with an AppArmor
// annotation and no field gets the profile the annotation names, unless
// it is invalid or the pod's own profile. It returns the warnings upstream
// adds then: one for each such annotation that was copied or names no
// valid profile.
func applyAppArmorVersionSkew(pod *corev1.Pod) []string {
	if pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows {
		return nil
	}
	var podProfile *corev1.AppArmorProfile
	if pod.Spec.SecurityContext != nil {
		podProfile = pod.Spec.SecurityContext.AppArmorProfile
	}
	if len(pod.Annotations) == 0 {
		return nil // no container has an annotation to copy
	}
	var w []string
	visitContainers(&pod.Spec, nil, func(c *corev1.Container, _ containerPath) {
		key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + c.Name
		value, ok := pod.Annotations[key]
		if !ok || (c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil) {
			return
		}
		profile := appArmorFieldForAnnotation(value)
		if len(validateAppArmorProfile(profile, &field.Path{})) > 0 {
			profile = nil // an invalid value is not copied
		}
		warn := profile == nil
		if profile != nil && !apiequality.Semantic.DeepEqual(profile, podProfile) {
			if c.SecurityContext == nil {
				c.SecurityContext = &corev1.SecurityContext{}
			}
			c.SecurityContext.AppArmorProfile = profile
			warn = true
		}
		if warn {
			w = append(w, fmt.Sprintf(`%s: deprecated since v1.30; use the "appArmorProfile" field instead`,
				field.NewPath("metadata", "annotations").Key(key)))
		}
	})
	return w
}

// appArmorFieldForAnnotation is upstream's ApparmorFieldForAnnotation:
// the profile a deprecated AppArmor annotation names, nil when none.
func appArmorFieldForAnnotation(annotation string) *corev1.AppArmorProfile {
	switch {
	case annotation == corev1.DeprecatedAppArmorBetaProfileNameUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case annotation == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case strings.HasPrefix(annotation, corev1.DeprecatedAppArmorBetaProfileNamePrefix):
		if name := strings.TrimPrefix(annotation, corev1.DeprecatedAppArmorBetaProfileNamePrefix); name != "" {
			return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
		}
	}
	return nil
}

// validateAppArmorProfile is upstream's ValidateAppArmorProfileField.
func validateAppArmorProfile(p *corev1.AppArmorProfile, path *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	var errs field.ErrorList
	switch p.Type {
	case corev1.AppArmorProfileTypeLocalhost:
		const maxLength = 4095 // PATH_MAX - 1
		switch name := p.LocalhostProfile; {
		case name == nil || *name == "":
			errs = append(errs, field.Required(path.Child("localhostProfile"), "must be set when AppArmor type is Localhost"))
		case strings.TrimSpace(*name) != *name:
			errs = append(errs, field.Invalid(path.Child("localhostProfile"), *name, "must not be padded with whitespace"))
		}
		if name := p.LocalhostProfile; name != nil && len(*name) > maxLength {
			errs = append(errs, field.TooLong(path.Child("localhostProfile"), "", maxLength))
		}
	case corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined:
		if p.LocalhostProfile != nil {
			errs = append(errs, field.Invalid(path.Child("localhostProfile"), *p.LocalhostProfile, "can only be set when AppArmor type is Localhost"))
		}
	case "":
		errs = append(errs, field.Required(path.Child("type"), "type is required when appArmorProfile is set"))
	default:
		errs = append(errs, field.NotSupported(path.Child("type"), p.Type, []corev1.AppArmorProfileType{
			corev1.AppArmorProfileTypeLocalhost, corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined}))
	}
	return errs
}

// validateAppArmorAnnotations is upstream's ValidateAppArmorPodAnnotations:
// each AppArmor annotation names a container of the pod and a profile.
func validateAppArmorAnnotations(annotations map[string]string, spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		name, ok := strings.CutPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix)
		if !ok {
			continue
		}
		found := false
		visitContainers(spec, nil, func(c *corev1.Container, _ containerPath) { found = found || c.Name == name })
		if !found {
			errs = append(errs, field.Invalid(path.Key(k), name, "container not found"))
		}
		if v := annotations[k]; v != "" && v != corev1.DeprecatedAppArmorBetaProfileRuntimeDefault &&
			v != corev1.DeprecatedAppArmorBetaProfileNameUnconfined && !strings.HasPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix) {
			errs = append(errs, field.Invalid(path.Key(k), v, fmt.Sprintf("invalid AppArmor profile name: %q", v)))
		}
	}
	return errs
}

// validateAppArmorMatch is upstream's
// validateAppArmorAnnotationsAndFieldsMatchOnCreate: a container's
// profile (its own, else the pod's) agrees with its annotation.
func validateAppArmorMatch(meta *metav1.ObjectMeta, spec *corev1.PodSpec, specPath *field.Path) field.ErrorList {
	if spec.OS != nil && spec.OS.Name == corev1.Windows {
		return nil
	}
	var podProfile *corev1.AppArmorProfile
	if spec.SecurityContext != nil {
		podProfile = spec.SecurityContext.AppArmorProfile
	}
	if len(meta.Annotations) == 0 {
		return nil // no annotation to disagree with a field
	}
	var errs field.ErrorList
	visitContainers(spec, specPath, func(c *corev1.Container, cp containerPath) {
		profile := podProfile
		if c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
			profile = c.SecurityContext.AppArmorProfile
		}
		annotation, ok := meta.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+c.Name]
		if profile == nil || !ok {
			return
		}
		path := cp.path().Child("securityContext", "appArmorProfile")
		typeMismatch := field.Forbidden(path.Child("type"), "apparmor type in annotation and field must match")
		switch profile.Type {
		case corev1.AppArmorProfileTypeUnconfined:
			if annotation != corev1.DeprecatedAppArmorBetaProfileNameUnconfined {
				errs = append(errs, typeMismatch)
			}
		case corev1.AppArmorProfileTypeRuntimeDefault:
			if annotation != corev1.DeprecatedAppArmorBetaProfileRuntimeDefault {
				errs = append(errs, typeMismatch)
			}
		case corev1.AppArmorProfileTypeLocalhost:
			name, isLocal := strings.CutPrefix(annotation, corev1.DeprecatedAppArmorBetaProfileNamePrefix)
			switch {
			case !isLocal:
				errs = append(errs, typeMismatch)
			case profile.LocalhostProfile == nil || name != *profile.LocalhostProfile:
				errs = append(errs, field.Forbidden(path.Child("localhostProfile"), "apparmor profile in annotation and field must match"))
			}
		}
	})
	return errs
}

// validateAppArmorAnnotationUpdates is the AppArmor part of upstream's
// ValidatePodSpecificAnnotationUpdates: a pod's AppArmor annotations
// never change.
func validateAppArmorAnnotationUpdates(annotations, old map[string]string) field.ErrorList {
	path := field.NewPath("metadata", "annotations")
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(old)) {
		if v, ok := annotations[k]; (!ok || v != old[k]) && strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			errs = append(errs, field.Forbidden(path.Key(k), "may not remove or update AppArmor annotations"))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		if _, ok := old[k]; !ok && strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			errs = append(errs, field.Forbidden(path.Key(k), "may not add AppArmor annotations"))
		}
	}
	return errs
}
