package builtin

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Pods (k8s.io/kubernetes pkg/apis/core/validation, v1.37).

func validatePod(o runtime.Object) field.ErrorList {
	p := o.(*corev1.Pod)
	var errs field.ErrorList // paths built only where they may be needed
	if len(p.Annotations) > 0 {
		errs = validateAppArmorAnnotations(p.Annotations, &p.Spec, field.NewPath("metadata", "annotations"))
	}
	errs = append(errs, validatePodSpec(&p.Spec, field.NewPath("spec"), false)...)
	if len(p.Spec.Volumes) > 0 {
		errs = append(errs, validatePodEphemeralClaims(p.Name, p.Spec.Volumes, field.NewPath("spec", "volumes"))...)
	}
	return append(errs, validatePodTokenProjections(&p.Spec)...)
}

// validatePodTokenProjections is upstream's check, for pods and not
// templates, that a pod with a service account token volume names its
// service account (which the ServiceAccount admission plugin sets).
func validatePodTokenProjections(s *corev1.PodSpec) field.ErrorList {
	if s.ServiceAccountName != "" {
		return nil
	}
	var errs field.ErrorList
	for i, v := range s.Volumes {
		if v.Projected == nil {
			continue
		}
		for j, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				errs = append(errs, field.Forbidden(field.NewPath("spec", "volumes").Index(i).Child("projected", "sources").Index(j).Child("serviceAccountToken"),
					"must not be specified when serviceAccountName is not set"))
			}
		}
	}
	return errs
}

// validatePodCreate is what upstream's ValidatePodCreate adds: AppArmor
// annotations agree with the fields.
func validatePodCreate(o runtime.Object) field.ErrorList {
	p := o.(*corev1.Pod)
	return validateAppArmorMatch(&p.ObjectMeta, &p.Spec, field.NewPath("spec"))
}

// validatePodTemplateAppArmor is the AppArmor part of upstream's
// ValidatePodTemplateSpec, path being the template's.
func validatePodTemplateAppArmor(t *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	errs := validateAppArmorAnnotations(t.Annotations, &t.Spec, path.Child("annotations"))
	return append(errs, validateAppArmorMatch(&t.ObjectMeta, &t.Spec, path.Child("spec"))...)
}

// validatePodSpec checks containers, their names, images and ports, the
// restart and DNS policies. template tells a pod template (whose restart
// policy the owner restricts) from a pod.
func validatePodSpec(s *corev1.PodSpec, path *field.Path, template bool) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), ""))
	}
	vols, volErrs := validatePodVolumes(s.Volumes, path.Child("volumes"))
	errs = append(errs, volErrs...)
	errs = append(errs, validateContainers(s.Containers, vols, path.Child("containers"), names)...)
	if len(s.InitContainers) > 0 {
		errs = append(errs, validateContainers(s.InitContainers, vols, path.Child("initContainers"), names)...)
	}
	switch s.RestartPolicy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	case "":
		errs = append(errs, field.Required(path.Child("restartPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("restartPolicy"), s.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	}
	switch s.DNSPolicy {
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault, corev1.DNSNone:
	case "":
		errs = append(errs, field.Required(path.Child("dnsPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("dnsPolicy"), s.DNSPolicy,
			[]corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone}))
	}
	return append(errs, validatePodSpecFields(s, path)...)
}

// validatePodUpdate refuses changes of a pod's spec other than the ones
// upstream allows (images, activeDeadlineSeconds, added tolerations,
// terminationGracePeriodSeconds), with upstream's message.
func validatePodUpdate(o, old runtime.Object) field.ErrorList {
	errs := validateAppArmorAnnotationUpdates(o.(*corev1.Pod).Annotations, old.(*corev1.Pod).Annotations)
	return append(errs, validatePodSpecUpdate(o, old)...)
}

func validatePodSpecUpdate(o, old runtime.Object) field.ErrorList {
	p, prev := o.(*corev1.Pod).Spec.DeepCopy(), old.(*corev1.Pod).Spec.DeepCopy()
	for i := range p.Containers {
		if i < len(prev.Containers) {
			p.Containers[i].Image = prev.Containers[i].Image
		}
	}
	for i := range p.InitContainers {
		if i < len(prev.InitContainers) {
			p.InitContainers[i].Image = prev.InitContainers[i].Image
		}
	}
	p.ActiveDeadlineSeconds = prev.ActiveDeadlineSeconds
	p.TerminationGracePeriodSeconds = prev.TerminationGracePeriodSeconds
	p.Tolerations = prev.Tolerations
	p.SchedulingGates = prev.SchedulingGates
	if prev.NodeName == "" {
		p.NodeName = "" // binding
	}
	if equalJSON(p, prev) {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec"), "pod updates may not change fields other than "+
		"`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"+
		"`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "+
		"(allow it to be set to 1 if it was previously negative)\n"+specDiff(*prev, *p))}
}
