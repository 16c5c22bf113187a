package quota

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/regis-dev/regis/internal/registry"
)

var podCount = corev1.ResourceName("count/pods")

// podResources are the names the pod evaluator measures.
var podResources = []corev1.ResourceName{podCount, corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage, corev1.ResourcePods}

// requiredSet are the names a pod's every container must request or
// limit when a quota limits them (upstream's validationSet).
var requiredSet = sets.New(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceRequestsCPU,
	corev1.ResourceRequestsMemory, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory)

// podEvaluator is upstream's pod evaluator. Its clock tells when a
// deleted pod's grace period is over.
type podEvaluator struct{ now func() time.Time }

func (podEvaluator) handles(op registry.Operation, sub string, _, _ runtime.Object) bool {
	if sub != "" && sub != "resize" {
		return false
	}
	return op == registry.OpCreate || (sub == "resize" && op == registry.OpUpdate)
}

func (podEvaluator) matchingResources(in []corev1.ResourceName) []corev1.ResourceName {
	out := intersection(in, podResources)
	for _, n := range in {
		if strings.HasPrefix(string(n), corev1.ResourceHugePagesPrefix) || strings.HasPrefix(string(n), corev1.ResourceRequestsHugePagesPrefix) {
			out = append(out, n)
		}
		if !isNativeResource(n) && strings.HasPrefix(string(n), corev1.DefaultResourceRequestsPrefix) {
			out = append(out, n)
		}
	}
	return out
}

func toPod(obj runtime.Object) (*corev1.Pod, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("expect *api.Pod or *v1.Pod, got %T", obj)
	}
	return pod, nil
}

func (podEvaluator) constraints(required []corev1.ResourceName, obj runtime.Object) error {
	pod, err := toPod(obj)
	if err != nil {
		return err
	}
	req := sets.New(required...).Intersection(requiredSet)
	missing := map[corev1.ResourceName]sets.Set[string]{}
	check := func(c *corev1.Container) {
		have := sets.New(names(containerUsage(c.Resources.Requests, c.Resources.Limits))...)
		for _, n := range sets.List(req.Difference(have)) {
			if missing[n] == nil {
				missing[n] = sets.New[string]()
			}
			missing[n].Insert(c.Name)
		}
	}
	for i := range pod.Spec.Containers {
		check(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.InitContainers {
		check(&pod.Spec.InitContainers[i])
	}
	if len(missing) == 0 {
		return nil
	}
	keys := make([]string, 0, len(missing))
	for n := range missing {
		keys = append(keys, string(n))
	}
	sort.Strings(keys)
	msgs := make([]string, 0, len(keys))
	for _, k := range keys {
		msgs = append(msgs, fmt.Sprintf("%s for: %s", k, strings.Join(sets.List(missing[corev1.ResourceName(k)]), ",")))
	}
	return fmt.Errorf("must specify %s", strings.Join(msgs, "; "))
}

// containerUsage is upstream's podComputeUsageHelper.
func containerUsage(requests, limits corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}
	pairs := []struct{ res, req, lim corev1.ResourceName }{
		{corev1.ResourceCPU, corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU},
		{corev1.ResourceMemory, corev1.ResourceRequestsMemory, corev1.ResourceLimitsMemory},
		{corev1.ResourceEphemeralStorage, corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage},
	}
	for _, p := range pairs {
		if q, ok := requests[p.res]; ok {
			out[p.res], out[p.req] = q, q
		}
		if q, ok := limits[p.res]; ok {
			out[p.lim] = q
		}
	}
	for n, q := range requests {
		if strings.HasPrefix(string(n), corev1.ResourceHugePagesPrefix) {
			out[n] = q
			out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(n))] = q
		}
		if isExtendedResourceName(n) {
			out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(n))] = q
		}
	}
	return out
}

// isExtendedResourceName is upstream's helper.IsExtendedResourceName.
func isExtendedResourceName(n corev1.ResourceName) bool {
	if isNativeResource(n) || strings.HasPrefix(string(n), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(n))) == 0
}

func (podEvaluator) matchesScope(sel corev1.ScopedResourceSelectorRequirement, obj runtime.Object) (bool, error) {
	pod, err := toPod(obj)
	if err != nil {
		return false, err
	}
	switch sel.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return isTerminating(pod), nil
	case corev1.ResourceQuotaScopeNotTerminating:
		return !isTerminating(pod), nil
	case corev1.ResourceQuotaScopeBestEffort:
		return isBestEffort(pod), nil
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !isBestEffort(pod), nil
	case corev1.ResourceQuotaScopePriorityClass:
		if sel.Operator == corev1.ScopeSelectorOpExists {
			return pod.Spec.PriorityClassName != "", nil
		}
		s, err := scopeSelectorAsSelector(sel)
		if err != nil {
			return false, fmt.Errorf("failed to parse and convert selector: %v", err)
		}
		var m labels.Set
		if pod.Spec.PriorityClassName != "" {
			m = labels.Set{string(corev1.ResourceQuotaScopePriorityClass): pod.Spec.PriorityClassName}
		}
		return s.Matches(m), nil
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return crossNamespaceAffinity(pod), nil
	}
	return false, nil
}

// scopeSelectorAsSelector is upstream's
// ScopedResourceSelectorRequirementsAsSelector of one requirement.
func scopeSelectorAsSelector(sel corev1.ScopedResourceSelectorRequirement) (labels.Selector, error) {
	op := map[corev1.ScopeSelectorOperator]metav1.LabelSelectorOperator{
		corev1.ScopeSelectorOpIn: metav1.LabelSelectorOpIn, corev1.ScopeSelectorOpNotIn: metav1.LabelSelectorOpNotIn,
		corev1.ScopeSelectorOpExists: metav1.LabelSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist: metav1.LabelSelectorOpDoesNotExist,
	}[sel.Operator]
	if op == "" {
		return nil, fmt.Errorf("%q is not a valid scope selector operator", sel.Operator)
	}
	return metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: string(sel.ScopeName), Operator: op, Values: sel.Values}}})
}

func isTerminating(pod *corev1.Pod) bool {
	return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
}

// isBestEffort is upstream's GetPodQOS == BestEffort: no positive cpu or
// memory request or limit in any container or at the pod level.
func isBestEffort(pod *corev1.Pod) bool {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass == corev1.PodQOSBestEffort
	}
	positive := func(l corev1.ResourceList) bool {
		for n, q := range l {
			if (n == corev1.ResourceCPU || n == corev1.ResourceMemory) && q.Sign() > 0 {
				return true
			}
		}
		return false
	}
	if r := pod.Spec.Resources; r != nil && (positive(r.Requests) || positive(r.Limits)) {
		return false
	}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			if positive(cs[i].Resources.Requests) || positive(cs[i].Resources.Limits) {
				return false
			}
		}
	}
	return true
}

func crossNamespaceAffinity(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	if a == nil {
		return false
	}
	cross := func(t *corev1.PodAffinityTerm) bool { return len(t.Namespaces) != 0 || t.NamespaceSelector != nil }
	for _, pa := range []*corev1.PodAffinity{a.PodAffinity} {
		if pa == nil {
			continue
		}
		for i := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
			if cross(&pa.RequiredDuringSchedulingIgnoredDuringExecution[i]) {
				return true
			}
		}
		for i := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
			if cross(&pa.PreferredDuringSchedulingIgnoredDuringExecution[i].PodAffinityTerm) {
				return true
			}
		}
	}
	if pa := a.PodAntiAffinity; pa != nil {
		for i := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
			if cross(&pa.RequiredDuringSchedulingIgnoredDuringExecution[i]) {
				return true
			}
		}
		for i := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
			if cross(&pa.PreferredDuringSchedulingIgnoredDuringExecution[i].PodAffinityTerm) {
				return true
			}
		}
	}
	return false
}

// usage is upstream's PodUsageFunc: the object count always, the compute
// resources of a pod that is not terminal nor past its grace period.
func (e podEvaluator) usage(obj runtime.Object) (corev1.ResourceList, error) {
	pod, err := toPod(obj)
	if err != nil {
		return corev1.ResourceList{}, err
	}
	out := corev1.ResourceList{podCount: one()}
	if !e.charged(pod) {
		return out, nil
	}
	return add(out, containerUsage(podRequests(pod), podLimits(pod))), nil
}

// charged is upstream's QuotaV1Pod.
func (e podEvaluator) charged(pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		now := time.Now
		if e.now != nil {
			now = e.now
		}
		end := pod.DeletionTimestamp.Add(time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second)
		if now().After(end) {
			return false
		}
	}
	return true
}
