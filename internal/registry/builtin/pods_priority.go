package builtin

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

var priorityClassesGVR = schedulingv1.SchemeGroupVersion.WithResource("priorityclasses")

// PodPriority makes the creation of a pod do what upstream's Priority
// admission plugin does, after the pod's earlier create steps (the
// ServiceAccount one, as upstream's plugin order): spec.priority and
// spec.preemptionPolicy computed from the pod's PriorityClass, or from
// the global default class (the lowest-valued one marked globalDefault)
// when it names none, or 0 and PreemptLowerPriority without one; a
// missing class, or a priority or policy in the pod that differs from
// the class's, is 403 with upstream's message. reg returns the registry
// the classes are read from (their watch cache).
func PodPriority(rs []*registry.Resource, reg func() *registry.Registry) {
	for _, r := range rs {
		if r.Group != "" || r.Resource != "pods" {
			continue
		}
		prev := r.CheckWrite
		r.CheckWrite = func(ctx context.Context, obj, old runtime.Object) error {
			if prev != nil {
				if err := prev(ctx, obj, old); err != nil {
					return err
				}
			}
			if old != nil {
				return nil
			}
			return admitPodPriority(ctx, reg(), obj.(*corev1.Pod))
		}
	}
}

func admitPodPriority(ctx context.Context, reg *registry.Registry, pod *corev1.Pod) error {
	if reg == nil {
		return nil
	}
	st, ok := reg.Lookup(priorityClassesGVR)
	if !ok {
		return nil
	}
	forbidden := func(err error) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, pod.Name, err)
	}
	var (
		priority int32
		policy   *corev1.PreemptionPolicy
	)
	if pod.Spec.PriorityClassName == "" {
		pc, err := globalDefaultPriorityClass(ctx, st)
		if err != nil {
			return fmt.Errorf("failed to get default priority class: %w", err)
		}
		if pc != nil {
			pod.Spec.PriorityClassName, priority, policy = pc.Name, pc.Value, pc.PreemptionPolicy
		} else {
			policy = ptr(corev1.PreemptLowerPriority)
		}
	} else {
		obj, err := st.Get(ctx, "", pod.Spec.PriorityClassName, &metav1.GetOptions{ResourceVersion: "0"})
		if apierrors.IsNotFound(err) { // not in the cache yet: a consistent read
			obj, err = st.Get(ctx, "", pod.Spec.PriorityClassName, &metav1.GetOptions{})
		}
		if apierrors.IsNotFound(err) {
			return forbidden(fmt.Errorf("no PriorityClass with name %v was found", pod.Spec.PriorityClassName))
		}
		if err != nil {
			return fmt.Errorf("failed to get PriorityClass with name %s: %w", pod.Spec.PriorityClassName, err)
		}
		pc, ok := cacheable.Unwrap(obj).(*schedulingv1.PriorityClass)
		if !ok {
			return fmt.Errorf("failed to get PriorityClass with name %s: unexpected %T", pod.Spec.PriorityClassName, obj)
		}
		priority, policy = pc.Value, pc.PreemptionPolicy
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return forbidden(fmt.Errorf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, priority))
	}
	pod.Spec.Priority = ptr(priority)
	if policy != nil {
		if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != *policy {
			return forbidden(fmt.Errorf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, *policy))
		}
		pod.Spec.PreemptionPolicy = ptr(*policy)
	}
	return nil
}

// globalDefaultPriorityClass is the class marked globalDefault with the lowest
// value (upstream's getDefaultPriorityClass), or nil.
func globalDefaultPriorityClass(ctx context.Context, st *registry.Store) (*schedulingv1.PriorityClass, error) {
	list, err := st.List(ctx, "", &metainternalversion.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var def *schedulingv1.PriorityClass
	for _, it := range items {
		pc, ok := cacheable.Unwrap(it).(*schedulingv1.PriorityClass)
		if ok && pc.GlobalDefault && (def == nil || def.Value > pc.Value) {
			def = pc
		}
	}
	return def, nil
}
