package builtin

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Workload controllers (k8s.io/kubernetes pkg/apis/apps/validation and
// pkg/apis/core/validation, v1.37).

func validateReplicationController(o runtime.Object) field.ErrorList {
	rc := o.(*corev1.ReplicationController)
	path := field.NewPath("spec")
	var errs field.ErrorList
	errs = append(errs, validateReplicas(rc.Spec.Replicas, path.Child("replicas"))...)
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(path.Child("selector"), ""))
	}
	if rc.Spec.Template == nil {
		return append(errs, field.Required(path.Child("template"), ""))
	}
	if !labels.SelectorFromSet(rc.Spec.Selector).Matches(labels.Set(rc.Spec.Template.Labels)) {
		errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), rc.Spec.Template.Labels,
			"`selector` does not match template `labels`"))
	}
	errs = append(errs, validateTemplateRestartAlways(&rc.Spec.Template.Spec, path.Child("template", "spec"))...)
	errs = append(errs, validatePodSpec(&rc.Spec.Template.Spec, path.Child("template", "spec"), true)...)
	return append(errs, validatePodTemplateAppArmor(rc.Spec.Template, path.Child("template"))...)
}

func validateReplicas(r *int32, path *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	return apivalidation.ValidateNonnegativeField(int64(*r), path)
}

// validateWorkload checks what every apps/v1 controller shares: a
// non-empty selector that matches the template's labels and a valid
// template.
func validateWorkload(kind string, sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if sel == nil {
		errs = append(errs, field.Required(path.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(path.Child("selector"), sel, "empty selector is invalid for "+kind))
		}
	}
	// A nil selector selects nothing, so it matches no template either.
	if s, err := metav1.LabelSelectorAsSelector(sel); err != nil {
		errs = append(errs, field.Invalid(path.Child("selector"), sel, "invalid label selector"))
	} else if !s.Empty() && !s.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), t.Labels,
			"`selector` does not match template `labels`"))
	}
	errs = append(errs, validatePodSpec(&t.Spec, path.Child("template", "spec"), true)...)
	return append(errs, validatePodTemplateAppArmor(t, path.Child("template"))...)
}

func validateTemplateRestartAlways(s *corev1.PodSpec, path *field.Path) field.ErrorList {
	if s.RestartPolicy != corev1.RestartPolicyAlways && s.RestartPolicy != "" {
		return field.ErrorList{field.NotSupported(path.Child("restartPolicy"), s.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways})}
	}
	return nil
}

func validateDeployment(o runtime.Object) field.ErrorList {
	d := o.(*appsv1.Deployment)
	path := field.NewPath("spec")
	errs := validateReplicas(d.Spec.Replicas, path.Child("replicas"))
	errs = append(errs, validateWorkload("deployment", d.Spec.Selector, &d.Spec.Template, path)...)
	errs = append(errs, validateTemplateRestartAlways(&d.Spec.Template.Spec, path.Child("template", "spec"))...)
	errs = append(errs, validateDeploymentStrategy(&d.Spec.Strategy, path.Child("strategy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(d.Spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	if d.Spec.RevisionHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*d.Spec.RevisionHistoryLimit), path.Child("revisionHistoryLimit"))...)
	}
	if p := d.Spec.ProgressDeadlineSeconds; p != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*p), path.Child("progressDeadlineSeconds"))...)
		if *p <= d.Spec.MinReadySeconds {
			errs = append(errs, field.Invalid(path.Child("progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateReplicaSet(o runtime.Object) field.ErrorList {
	r := o.(*appsv1.ReplicaSet)
	path := field.NewPath("spec")
	errs := validateReplicas(r.Spec.Replicas, path.Child("replicas"))
	errs = append(errs, validateWorkload("replicaset", r.Spec.Selector, &r.Spec.Template, path)...)
	return append(errs, validateTemplateRestartAlways(&r.Spec.Template.Spec, path.Child("template", "spec"))...)
}

func validateStatefulSet(o runtime.Object) field.ErrorList {
	s := o.(*appsv1.StatefulSet)
	path := field.NewPath("spec")
	errs := validateReplicas(s.Spec.Replicas, path.Child("replicas"))
	errs = append(errs, validateWorkload("statefulset", s.Spec.Selector, &s.Spec.Template, path)...)
	errs = append(errs, validateStatefulSetSpec(&s.Spec, path)...)
	return append(errs, validateTemplateRestartAlways(&s.Spec.Template.Spec, path.Child("template", "spec"))...)
}

func validateDaemonSet(o runtime.Object) field.ErrorList {
	d := o.(*appsv1.DaemonSet)
	path := field.NewPath("spec")
	errs := validateWorkload("daemonset", d.Spec.Selector, &d.Spec.Template, path)
	errs = append(errs, validateDaemonSetStrategy(&d.Spec.UpdateStrategy, path.Child("updateStrategy"))...)
	return append(errs, validateTemplateRestartAlways(&d.Spec.Template.Spec, path.Child("template", "spec"))...)
}
