package quota

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/regis-dev/regis/internal/registry/builtin"
)

// The resources of a pod from its spec, as k8s.io/component-helpers'
// PodRequests and PodLimits compute them: the containers summed, init
// containers as the most any one needs while it runs (with the sidecars
// started before it), pod-level cpu, memory and hugepages in place of the
// containers', plus the overhead.

func podRequests(pod *corev1.Pod) corev1.ResourceList {
	reqs := aggregate(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Requests })
	if r := pod.Spec.Resources; r != nil && hasPodLevel(r.Requests) {
		applyPodLevel(reqs, r.Requests)
	}
	if pod.Spec.Overhead != nil {
		builtin.AddResourceList(reqs, pod.Spec.Overhead)
	}
	return reqs
}

func podLimits(pod *corev1.Pod) corev1.ResourceList {
	lims := aggregate(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits })
	if r := pod.Spec.Resources; r != nil && (hasPodLevel(r.Requests) || hasPodLevel(r.Limits)) {
		applyPodLevel(lims, r.Limits)
	}
	for n, q := range pod.Spec.Overhead {
		if v, ok := lims[n]; ok && !v.IsZero() {
			v.Add(q)
			lims[n] = v
		}
	}
	return lims
}

func podLevelResource(n corev1.ResourceName) bool {
	return n == corev1.ResourceCPU || n == corev1.ResourceMemory || strings.HasPrefix(string(n), corev1.ResourceHugePagesPrefix)
}

func hasPodLevel(l corev1.ResourceList) bool {
	for n := range l {
		if podLevelResource(n) {
			return true
		}
	}
	return false
}

func applyPodLevel(out, l corev1.ResourceList) {
	for n, q := range l {
		if podLevelResource(n) {
			out[n] = q
		}
	}
}

func aggregate(pod *corev1.Pod, of func(*corev1.Container) corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		builtin.AddResourceList(out, of(&pod.Spec.Containers[i]))
	}
	sidecars, inits := corev1.ResourceList{}, corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		r := of(c)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			builtin.AddResourceList(out, r)
			builtin.AddResourceList(sidecars, r)
			r = sidecars
		} else {
			combined := corev1.ResourceList{}
			builtin.AddResourceList(combined, r)
			builtin.AddResourceList(combined, sidecars)
			r = combined
		}
		builtin.MaxResourceList(inits, r)
	}
	builtin.MaxResourceList(out, inits)
	return out
}
