package builtin

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// podBinding is pods/binding, how a scheduler assigns a pod to a node:
// upstream's BindingREST, which writes straight to storage (no pod
// strategy, no generation bump).
var podBinding = registry.SubresourceRule{
	Name: "binding", Kind: corev1.SchemeGroupVersion.WithKind("Binding"), Verbs: []string{"create"},
	New:    func() runtime.Object { return &corev1.Binding{} },
	Create: bindPod,
}

func bindPod(ctx context.Context, st *registry.Store, namespace, name string, req runtime.Object, opts registry.CreateOptions) (runtime.Object, error) {
	b := req.(*corev1.Binding)
	if b.Name != name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Binding object")
	}
	if errs := validatePodBinding(b); len(errs) > 0 {
		// Upstream returns the aggregate as a plain error: a 500.
		return nil, apierrors.NewInternalError(errs.ToAggregate())
	}
	_, _, err := st.Update(ctx, namespace, name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		pod := existing.(*corev1.Pod)
		if err := bindPreconditions(pod, b); err != nil {
			return nil, err
		}
		// Upstream answers these refusals with a Conflict on pods/binding.
		refuse := func(format string, args ...any) error {
			return apierrors.NewConflict(schema.GroupResource{Resource: "pods/binding"}, name, fmt.Errorf(format, args...))
		}
		switch {
		case pod.DeletionTimestamp != nil:
			return nil, refuse("pod %s is being deleted, cannot be assigned to a host", pod.Name)
		case pod.Spec.NodeName != "":
			return nil, refuse("pod %v is already assigned to node %q", pod.Name, pod.Spec.NodeName)
		case len(pod.Spec.SchedulingGates) != 0:
			return nil, refuse("pod %v has non-empty .spec.schedulingGates", pod.Name)
		}
		pod.Spec.NodeName = b.Target.Name
		pod.Status.NominatedNodeName = ""
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		for k, v := range b.Annotations {
			pod.Annotations[k] = v
		}
		dropInitContainerAnnotations(pod.Annotations)
		if len(b.Labels) > 0 && pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		for k, v := range b.Labels {
			pod.Labels[k] = v
		}
		setPodCondition(&pod.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
		pod.ResourceVersion = ""
		return pod, nil
	}, registry.UpdateOptions{DryRun: opts.DryRun, Direct: true})
	if err != nil {
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess}, nil
}

// bindPreconditions checks the binding's UID and resource version against
// the pod's, with the messages of upstream's storage preconditions.
func bindPreconditions(pod *corev1.Pod, b *corev1.Binding) error {
	gr := schema.GroupResource{Resource: "pods"}
	if b.UID != "" && b.UID != pod.UID {
		return apierrors.NewConflict(gr, pod.Name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID))
	}
	if b.ResourceVersion != "" && b.ResourceVersion != pod.ResourceVersion {
		return apierrors.NewConflict(gr, pod.Name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v",
			b.ResourceVersion, pod.ResourceVersion))
	}
	return nil
}

// validatePodBinding is upstream's ValidatePodBinding.
func validatePodBinding(b *corev1.Binding) field.ErrorList {
	var errs field.ErrorList
	target := field.NewPath("target")
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, field.NotSupported(target.Child("kind"), b.Target.Kind, []string{"Node", "<empty>"}))
	}
	if b.Target.Name == "" {
		errs = append(errs, field.Required(target.Child("name"), ""))
	} else if b.Target.Kind == "" || b.Target.Kind == "Node" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(b.Target.Name, false) {
			errs = append(errs, field.Invalid(target.Child("name"), b.Target.Name, msg))
		}
	}
	return errs
}

// dropInitContainerAnnotations removes the beta and alpha init-container
// annotations, as upstream's podutil does on every pod write.
func dropInitContainerAnnotations(annotations map[string]string) {
	for _, k := range []string{"pod.beta.kubernetes.io/init-containers", "pod.alpha.kubernetes.io/init-containers",
		"pod.beta.kubernetes.io/init-container-statuses", "pod.alpha.kubernetes.io/init-container-statuses"} {
		delete(annotations, k)
	}
}

// setPodCondition is upstream's podutil.UpdatePodCondition: it adds or
// replaces the condition of its type, keeping the transition time while
// the status does not change.
func setPodCondition(status *corev1.PodStatus, c corev1.PodCondition) {
	c.LastTransitionTime = metav1.Now()
	for i := range status.Conditions {
		if status.Conditions[i].Type != c.Type {
			continue
		}
		if status.Conditions[i].Status == c.Status {
			c.LastTransitionTime = status.Conditions[i].LastTransitionTime
		}
		status.Conditions[i] = c
		return
	}
	status.Conditions = append(status.Conditions, c)
}
