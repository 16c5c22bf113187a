package builtin

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

var priorityClassesGVR = schedulingv1.SchemeGroupVersion.WithResource("priorityclasses")

var priorityClassesGR = priorityClassesGVR.GroupResource()

// PriorityAdmission is upstream's Priority admission plugin, a step of the
// admission chain (after ServiceAccount, before the mutating webhooks, as
// upstream orders it). Its mutating half, on pods: a new pod gets
// spec.priority and spec.preemptionPolicy from its PriorityClass, or from
// the global default class (the lowest-valued one marked globalDefault)
// when it names none, or 0 and PreemptLowerPriority without one; a missing
// class, or a priority or policy in the pod that differs from the class's,
// is 403 with upstream's message; an update keeps the stored priority and
// policy when it leaves them out. Its validating half, on PriorityClasses:
// a second class marked globalDefault is 403. The classes are read from
// reg's watch cache.
func PriorityAdmission(reg *registry.Registry) registry.Admission {
	return priorityPlugin{reg: reg}
}

type priorityPlugin struct{ reg *registry.Registry }

// Admit is upstream's admitPod.
func (p priorityPlugin) Admit(ctx context.Context, a *registry.Attributes) error {
	if a.Subresource != "" || a.Resource.GroupResource() != podsGR {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	switch a.Operation {
	case registry.OpUpdate:
		// The plugin set the priority on create; validation refuses to
		// change it, so an update that leaves it out keeps it.
		if old, ok := a.OldObject.(*corev1.Pod); ok {
			if pod.Spec.Priority == nil && old.Spec.Priority != nil {
				pod.Spec.Priority = ptr(*old.Spec.Priority)
			}
			if pod.Spec.PreemptionPolicy == nil && old.Spec.PreemptionPolicy != nil {
				pod.Spec.PreemptionPolicy = ptr(*old.Spec.PreemptionPolicy)
			}
		}
		return nil
	case registry.OpCreate:
		return admitPodPriority(ctx, p.reg, a, pod)
	}
	return nil
}

// Validate is upstream's validatePriorityClass: one default class only.
func (p priorityPlugin) Validate(ctx context.Context, a *registry.Attributes) error {
	if a.Subresource != "" || a.Resource.GroupResource() != priorityClassesGR ||
		(a.Operation != registry.OpCreate && a.Operation != registry.OpUpdate) {
		return nil
	}
	pc, ok := a.Object.(*schedulingv1.PriorityClass)
	if !ok || !pc.GlobalDefault {
		return nil
	}
	st, ok := p.reg.Lookup(priorityClassesGVR)
	if !ok {
		return nil
	}
	def, err := globalDefaultPriorityClass(ctx, st)
	if err != nil {
		return fmt.Errorf("failed to get default priority class: %w", err)
	}
	if def != nil && (a.Operation == registry.OpCreate || def.Name != pc.Name) {
		return AdmissionForbidden(a, fmt.Errorf("PriorityClass %v is already marked as default. Only one default can exist", def.Name))
	}
	return nil
}

func admitPodPriority(ctx context.Context, reg *registry.Registry, a *registry.Attributes, pod *corev1.Pod) error {
	st, ok := reg.Lookup(priorityClassesGVR)
	if !ok {
		return nil
	}
	var (
		priority int32
		policy   *corev1.PreemptionPolicy
	)
	if pod.Spec.PriorityClassName == "" {
		pc, err := globalDefaultPriorityClass(ctx, st)
		if err != nil {
			return fmt.Errorf("error occurred while retrieving default priority class: %w", err)
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
			return AdmissionForbidden(a, fmt.Errorf("no PriorityClass with name %v was found", pod.Spec.PriorityClassName))
		}
		if err != nil {
			return fmt.Errorf("failed to resolve PriorityClass with name %s: %w", pod.Spec.PriorityClassName, err)
		}
		pc, ok := cacheable.Unwrap(obj).(*schedulingv1.PriorityClass)
		if !ok {
			return fmt.Errorf("failed to resolve PriorityClass with name %s: unexpected %T", pod.Spec.PriorityClassName, obj)
		}
		priority, policy = pc.Value, pc.PreemptionPolicy
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return AdmissionForbidden(a, fmt.Errorf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, priority))
	}
	pod.Spec.Priority = ptr(priority)
	if policy != nil {
		if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != *policy {
			return AdmissionForbidden(a, fmt.Errorf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, *policy))
		}
		pod.Spec.PreemptionPolicy = ptr(*policy)
	}
	return nil
}

// globalDefaultPriorityClass is the class marked globalDefault with the lowest
// value (upstream's getDefaultPriorityClass), or nil.
func globalDefaultPriorityClass(ctx context.Context, st *registry.Store) (*schedulingv1.PriorityClass, error) {
	items, err := sharedObjects(ctx, st, "", "0")
	if err != nil {
		return nil, err
	}
	var def *schedulingv1.PriorityClass
	for _, it := range items {
		pc, ok := it.(*schedulingv1.PriorityClass)
		if ok && pc.GlobalDefault && (def == nil || def.Value > pc.Value) {
			def = pc
		}
	}
	return def, nil
}
