package builtin

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// mirrorPodAnnotation marks a static pod's mirror.
const mirrorPodAnnotation = "kubernetes.io/config.mirror"

// podEphemeralContainers is pods/ephemeralcontainers (kubectl debug): an
// update writes spec.ephemeralContainers only, and may add containers
// but change or remove none (upstream's podEphemeralContainersStrategy).
var podEphemeralContainers = registry.SubresourceRule{
	Name: "ephemeralcontainers", Verbs: []string{"get", "patch", "update"},
	Apply: func(next, sent runtime.Object) {
		next.(*corev1.Pod).Spec.EphemeralContainers = sent.(*corev1.Pod).Spec.EphemeralContainers
	},
	ValidateUpdate: validateEphemeralContainersUpdate,
}

func validateEphemeralContainersUpdate(o, old runtime.Object) field.ErrorList {
	pod, prev := o.(*corev1.Pod), old.(*corev1.Pod)
	errs := validatePod(pod)
	if _, ok := prev.Annotations[mirrorPodAnnotation]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods do not support ephemeral containers")}
	}
	path := field.NewPath("spec", "ephemeralContainers")
	sent := map[string]*corev1.EphemeralContainer{}
	for i := range pod.Spec.EphemeralContainers {
		sent[pod.Spec.EphemeralContainers[i].Name] = &pod.Spec.EphemeralContainers[i]
	}
	for _, c := range prev.Spec.EphemeralContainers {
		n, ok := sent[c.Name]
		switch {
		case !ok:
			errs = append(errs, field.Forbidden(path, fmt.Sprintf("existing ephemeral containers %q may not be removed\n", c.Name)))
		case !equality.Semantic.DeepEqual(c, *n):
			errs = append(errs, field.Forbidden(path, fmt.Sprintf("existing ephemeral containers %q may not be changed\n%v",
				c.Name, diff.Diff(internalJSON{c}, internalJSON{*n}))))
		}
	}
	return errs
}

// podResize is pods/resize: an update writes the containers' resources
// and resize policies only (upstream's podResizeStrategy).
var podResize = registry.SubresourceRule{
	Name: "resize", Verbs: []string{"get", "patch", "update"},
	Apply:          applyResize,
	ValidateUpdate: validateResize,
}

// applyResize takes the sent containers' resources and resize policies;
// when containers were added, removed or renamed it takes the sent
// containers whole, for validation to refuse.
func applyResize(next, sent runtime.Object) {
	pod, s := next.(*corev1.Pod), sent.(*corev1.Pod)
	pod.Spec.Containers = resizedContainers(s.Spec.Containers, pod.Spec.Containers)
	pod.Spec.InitContainers = resizedContainers(s.Spec.InitContainers, pod.Spec.InitContainers)
}

func resizedContainers(sent, stored []corev1.Container) []corev1.Container {
	if len(sent) != len(stored) {
		return sent
	}
	out := make([]corev1.Container, len(stored))
	copy(out, stored)
	for i := range sent {
		if sent[i].Name != stored[i].Name {
			return sent
		}
		out[i].Resources = sent[i].Resources
		out[i].ResizePolicy = sent[i].ResizePolicy
	}
	return out
}

func validateResize(o, old runtime.Object) field.ErrorList {
	pod, prev := o.(*corev1.Pod), old.(*corev1.Pod)
	errs := validatePod(pod)
	if _, ok := prev.Annotations[mirrorPodAnnotation]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods cannot be resized")}
	}
	if prev.Spec.OS != nil && prev.Spec.OS.Name == corev1.Windows {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "windows pods cannot be resized")}
	}
	spec := field.NewPath("spec")
	if prev.Status.QOSClass != podQOS(&pod.Spec) {
		errs = append(errs, field.Invalid(spec, pod.Status.QOSClass, "Pod QOS Class may not change as a result of resizing"))
	}
	if !resizeSupported(prev) {
		errs = append(errs, field.Forbidden(spec, "Pod running on node without support for resize"))
	}
	if r := pod.Spec.Resources; r != nil && len(r.Requests)+len(r.Limits) > 0 || prev.Spec.Resources != nil && len(prev.Spec.Resources.Requests)+len(prev.Spec.Resources.Limits) > 0 {
		return append(errs, field.Forbidden(field.NewPath(""),
			"resize of pods with pod-level resources is forbidden when InPlacePodLevelResourcesVerticalScalingEnabled feature gate is disabled"))
	}
	order := resizeOrder(pod.Spec.Containers, prev.Spec.Containers, spec.Child("containers"), "containers")
	order = append(order, resizeOrder(pod.Spec.InitContainers, prev.Spec.InitContainers, spec.Child("initContainers"), "initContainers")...)
	if len(order) > 0 {
		return append(errs, order...)
	}
	for i := range prev.Spec.InitContainers {
		if isRestartable(&prev.Spec.InitContainers[i]) {
			errs = append(errs, resourcesRemoved(&pod.Spec.InitContainers[i].Resources, &prev.Spec.InitContainers[i].Resources,
				spec.Child("initContainers").Index(i).Child("resources"))...)
		}
	}
	for i := range prev.Spec.Containers {
		errs = append(errs, resourcesRemoved(&pod.Spec.Containers[i].Resources, &prev.Spec.Containers[i].Resources,
			spec.Child("containers").Index(i).Child("resources"))...)
	}
	for i := range pod.Spec.Containers {
		if !onlyCPUMemoryChanged(&pod.Spec.Containers[i], &prev.Spec.Containers[i]) {
			errs = append(errs, field.Forbidden(spec, "only cpu and memory resources are mutable"))
		}
	}
	for i := range pod.Spec.InitContainers {
		c, p := &pod.Spec.InitContainers[i], &prev.Spec.InitContainers[i]
		switch {
		case isRestartable(c) && !onlyCPUMemoryChanged(c, p):
			errs = append(errs, field.Forbidden(spec.Child("initContainers").Index(i), "only cpu and memory resources for init or sidecar containers are mutable"))
		case !isRestartable(c) && !equality.Semantic.DeepEqual(*c, *p):
			errs = append(errs, field.Forbidden(spec, "resources for non-sidecar init containers are immutable"))
		}
	}
	return errs
}

func resizeSupported(pod *corev1.Pod) bool {
	for _, c := range pod.Status.ContainerStatuses {
		if c.State.Running != nil {
			return c.Resources != nil
		}
	}
	return true
}

func resizeOrder(sent, stored []corev1.Container, path *field.Path, what string) field.ErrorList {
	if len(sent) != len(stored) {
		return field.ErrorList{field.Forbidden(path, what+" may not be added or removed on resize")}
	}
	var errs field.ErrorList
	for i := range stored {
		if sent[i].Name != stored[i].Name {
			errs = append(errs, field.Forbidden(path.Index(i).Child("name"), what+" may not be renamed or reordered on resize"))
		}
	}
	return errs
}

func resourcesRemoved(sent, stored *corev1.ResourceRequirements, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if listRemoved(sent.Requests, stored.Requests) {
		errs = append(errs, field.Forbidden(path.Child("requests"), "resource requests cannot be removed"))
	}
	if listRemoved(sent.Limits, stored.Limits) {
		errs = append(errs, field.Forbidden(path.Child("limits"), "resource limits cannot be removed"))
	}
	return errs
}

func listRemoved(sent, stored corev1.ResourceList) bool {
	if len(stored) > len(sent) {
		return true
	}
	for name := range stored {
		if _, ok := sent[name]; !ok {
			return true
		}
	}
	return false
}

// onlyCPUMemoryChanged reports that a container differs from the stored
// one in its cpu and memory requests and limits at most.
func onlyCPUMemoryChanged(c, stored *corev1.Container) bool {
	x := c.DeepCopy()
	x.Resources.Limits = keepCPUMemory(x.Resources.Limits, stored.Resources.Limits)
	x.Resources.Requests = keepCPUMemory(x.Resources.Requests, stored.Resources.Requests)
	return equality.Semantic.DeepEqual(*x, *stored)
}

// keepCPUMemory returns list with its cpu and memory as in stored.
func keepCPUMemory(list, stored corev1.ResourceList) corev1.ResourceList {
	if list == nil {
		return nil
	}
	out := corev1.ResourceList{}
	for k, v := range list {
		if k != corev1.ResourceCPU && k != corev1.ResourceMemory {
			out[k] = v
		}
	}
	for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if v, ok := stored[k]; ok {
			out[k] = v
		}
	}
	return out
}

func isRestartable(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}
