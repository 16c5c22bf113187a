package builtin

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// limitRangerAnnotation lists what the LimitRanger set on a pod.
const limitRangerAnnotation = "kubernetes.io/limit-ranger"

// defaultContainerResourceRequirements is upstream's: the defaults of the
// LimitRange's Container items.
func defaultContainerResourceRequirements(lr *corev1.LimitRange) corev1.ResourceRequirements {
	req := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, limit := range lr.Spec.Limits {
		if limit.Type != corev1.LimitTypeContainer {
			continue
		}
		for k, v := range limit.DefaultRequest {
			req.Requests[k] = v.DeepCopy()
		}
		for k, v := range limit.Default {
			req.Limits[k] = v.DeepCopy()
		}
	}
	return req
}

// mergeContainerResources is upstream's: the defaults a container lacks,
// noted in annotations.
func mergeContainerResources(c *corev1.Container, def corev1.ResourceRequirements, prefix string, annotations []string) []string {
	var setRequests, setLimits []string
	for k, v := range def.Limits {
		if _, found := c.Resources.Limits[k]; !found {
			if c.Resources.Limits == nil {
				c.Resources.Limits = corev1.ResourceList{}
			}
			c.Resources.Limits[k] = v.DeepCopy()
			setLimits = append(setLimits, string(k))
		}
	}
	for k, v := range def.Requests {
		if _, found := c.Resources.Requests[k]; !found {
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			c.Resources.Requests[k] = v.DeepCopy()
			setRequests = append(setRequests, string(k))
		}
	}
	if len(setRequests) > 0 {
		sort.Strings(setRequests)
		annotations = append(annotations, strings.Join(setRequests, ", ")+fmt.Sprintf(" request for %s %s", prefix, c.Name))
	}
	if len(setLimits) > 0 {
		sort.Strings(setLimits)
		annotations = append(annotations, strings.Join(setLimits, ", ")+fmt.Sprintf(" limit for %s %s", prefix, c.Name))
	}
	return annotations
}

// mergePodResourceRequirements is upstream's: the defaults of every
// container, then of every init container, and the annotation.
func mergePodResourceRequirements(pod *corev1.Pod, def corev1.ResourceRequirements) {
	var annotations []string
	for i := range pod.Spec.Containers {
		annotations = mergeContainerResources(&pod.Spec.Containers[i], def, "container", annotations)
	}
	for i := range pod.Spec.InitContainers {
		annotations = mergeContainerResources(&pod.Spec.InitContainers[i], def, "init container", annotations)
	}
	if len(annotations) > 0 {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[limitRangerAnnotation] = "LimitRanger plugin set: " + strings.Join(annotations, "; ")
	}
}

// requestLimitEnforcedValues is upstream's: the three values at a common
// precision, milli-units unless one would overflow.
func requestLimitEnforcedValues(reqQ, limQ, enfQ resource.Quantity) (req, lim, enf int64) {
	req, lim, enf = reqQ.Value(), limQ.Value(), enfQ.Value()
	if req <= resource.MaxMilliValue && lim <= resource.MaxMilliValue && enf <= resource.MaxMilliValue {
		req, lim, enf = reqQ.MilliValue(), limQ.MilliValue(), enfQ.MilliValue()
	}
	return req, lim, enf
}

func minConstraint(limitType string, name corev1.ResourceName, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, reqExists := request[name]
	lim, limExists := limit[name]
	r, l, e := requestLimitEnforcedValues(req, lim, enforced)
	if !reqExists {
		return fmt.Errorf("minimum %s usage per %s is %s.  No request is specified", name, limitType, enforced.String())
	}
	if r < e {
		return fmt.Errorf("minimum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	if limExists && l < e {
		return fmt.Errorf("minimum %s usage per %s is %s, but limit is %s", name, limitType, enforced.String(), lim.String())
	}
	return nil
}

func maxRequestConstraint(limitType string, name corev1.ResourceName, enforced resource.Quantity, request corev1.ResourceList) error {
	req, reqExists := request[name]
	r, _, e := requestLimitEnforcedValues(req, resource.Quantity{}, enforced)
	if !reqExists {
		return fmt.Errorf("maximum %s usage per %s is %s.  No request is specified", name, limitType, enforced.String())
	}
	if r > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	return nil
}

func maxConstraint(limitType string, name corev1.ResourceName, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, reqExists := request[name]
	lim, limExists := limit[name]
	r, l, e := requestLimitEnforcedValues(req, lim, enforced)
	if !limExists {
		return fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified", name, limitType, enforced.String())
	}
	if l > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but limit is %s", name, limitType, enforced.String(), lim.String())
	}
	if reqExists && r > e {
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", name, limitType, enforced.String(), req.String())
	}
	return nil
}

func limitRequestRatioConstraint(limitType string, name corev1.ResourceName, enforced resource.Quantity, request, limit corev1.ResourceList) error {
	req, reqExists := request[name]
	lim, limExists := limit[name]
	r, l, _ := requestLimitEnforcedValues(req, lim, enforced)
	if !reqExists || r == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", name, limitType, enforced.String())
	}
	if !limExists || l == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0", name, limitType, enforced.String())
	}
	observed := float64(l) / float64(r)
	display := observed
	maxRatio := float64(enforced.Value())
	if enforced.Value() <= resource.MaxMilliValue {
		observed *= 1000
		maxRatio = float64(enforced.MilliValue())
	}
	if observed > maxRatio {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but provided ratio is %f", name, limitType, enforced.String(), display)
	}
	return nil
}

// claimValidateLimit is upstream's PersistentVolumeClaimValidateLimitFunc:
// min and max on the claim's requests.
func claimValidateLimit(lr *corev1.LimitRange, pvc *corev1.PersistentVolumeClaim) error {
	var errs []error
	for _, limit := range lr.Spec.Limits {
		if limit.Type != corev1.LimitTypePersistentVolumeClaim {
			continue
		}
		t := string(limit.Type)
		for k, v := range limit.Min {
			if err := minConstraint(t, k, v, pvc.Spec.Resources.Requests, corev1.ResourceList{}); err != nil {
				errs = append(errs, err)
			}
		}
		for k, v := range limit.Max {
			if err := maxRequestConstraint(t, k, v, pvc.Spec.Resources.Requests); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return utilerrors.NewAggregate(errs)
}

// containerConstraints checks one container against a Container item.
func containerConstraints(limit corev1.LimitRangeItem, c *corev1.Container, errs []error) []error {
	t := string(limit.Type)
	for k, v := range limit.Min {
		if err := minConstraint(t, k, v, c.Resources.Requests, c.Resources.Limits); err != nil {
			errs = append(errs, err)
		}
	}
	for k, v := range limit.Max {
		if err := maxConstraint(t, k, v, c.Resources.Requests, c.Resources.Limits); err != nil {
			errs = append(errs, err)
		}
	}
	for k, v := range limit.MaxLimitRequestRatio {
		if err := limitRequestRatioConstraint(t, k, v, c.Resources.Requests, c.Resources.Limits); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// podValidateLimit is upstream's PodValidateLimitFunc: every container and
// init container against the Container items, the pod's total against
// the Pod items.
func podValidateLimit(lr *corev1.LimitRange, pod *corev1.Pod) error {
	var errs []error
	for _, limit := range lr.Spec.Limits {
		switch limit.Type {
		case corev1.LimitTypeContainer:
			for i := range pod.Spec.Containers {
				errs = containerConstraints(limit, &pod.Spec.Containers[i], errs)
			}
			for i := range pod.Spec.InitContainers {
				errs = containerConstraints(limit, &pod.Spec.InitContainers[i], errs)
			}
		case corev1.LimitTypePod:
			t := string(limit.Type)
			reqs := podResourceTotal(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests })
			lims := podResourceTotal(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Limits })
			for k, v := range limit.Min {
				if err := minConstraint(t, k, v, reqs, lims); err != nil {
					errs = append(errs, err)
				}
			}
			for k, v := range limit.Max {
				if err := maxConstraint(t, k, v, reqs, lims); err != nil {
					errs = append(errs, err)
				}
			}
			for k, v := range limit.MaxLimitRequestRatio {
				if err := limitRequestRatioConstraint(t, k, v, reqs, lims); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return utilerrors.NewAggregate(errs)
}

// podResourceTotal is upstream's podRequests and podLimits (of pick): the
// containers' sum, restartable init containers (sidecars) added, at least
// the largest init container, and the pod-level cpu and memory
// (PodLevelResources, on by default) in place of the containers'.
func podResourceTotal(pod *corev1.Pod, pick func(corev1.ResourceRequirements) corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	for _, c := range pod.Spec.Containers {
		AddResourceList(total, pick(c.Resources))
	}
	sidecars, inits := corev1.ResourceList{}, corev1.ResourceList{}
	for _, c := range pod.Spec.InitContainers {
		r := pick(c.Resources)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			AddResourceList(total, r)
			AddResourceList(sidecars, r)
			r = sidecars
		} else {
			tmp := corev1.ResourceList{}
			AddResourceList(tmp, r)
			AddResourceList(tmp, sidecars)
			r = tmp
		}
		MaxResourceList(inits, r)
	}
	MaxResourceList(total, inits)
	if pod.Spec.Resources != nil {
		for name, q := range pick(*pod.Spec.Resources) {
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
				total[name] = q
			}
		}
	}
	return total
}

// AddResourceList adds the quantities of add to list.
func AddResourceList(list, add corev1.ResourceList) {
	for name, q := range add {
		if v, ok := list[name]; ok {
			v.Add(q)
			list[name] = v
		} else {
			list[name] = q.DeepCopy()
		}
	}
}

// MaxResourceList raises each quantity of list to other's where it is
// larger (or missing in list).
func MaxResourceList(list, other corev1.ResourceList) {
	for name, q := range other {
		if v, ok := list[name]; !ok || q.Cmp(v) > 0 {
			list[name] = q.DeepCopy()
		}
	}
}
