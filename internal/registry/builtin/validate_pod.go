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
	return validatePodSpec(&p.Spec, field.NewPath("spec"), false)
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
	vols := sets.New[string]()
	for _, v := range s.Volumes {
		vols.Insert(v.Name)
	}
	errs = append(errs, validateContainers(s.Containers, vols, path.Child("containers"), names)...)
	errs = append(errs, validateContainers(s.InitContainers, vols, path.Child("initContainers"), names)...)
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
	seen := sets.New[string]()
	for i, v := range s.Volumes {
		p := path.Child("volumes").Index(i)
		errs = append(errs, uniqueLabel(p.Child("name"), v.Name, seen)...)
	}
	return append(errs, validatePodSpecFields(s, path)...)
}

// validatePodUpdate refuses changes of a pod's spec other than the ones
// upstream allows (images, activeDeadlineSeconds, added tolerations,
// terminationGracePeriodSeconds), with upstream's message.
func validatePodUpdate(o, old runtime.Object) field.ErrorList {
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
