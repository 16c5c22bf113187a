package builtin

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Jobs and cron jobs (k8s.io/kubernetes pkg/apis/batch/validation, v1.37).

func validateJob(o runtime.Object) field.ErrorList {
	j := o.(*batchv1.Job)
	return validateJobSpec(&j.Spec, field.NewPath("spec"), false)
}

func validateJobSpec(s *batchv1.JobSpec, path *field.Path, template bool) field.ErrorList {
	var errs field.ErrorList
	if s.Parallelism != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.Parallelism), path.Child("parallelism"))...)
	}
	if s.Completions != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.Completions), path.Child("completions"))...)
	}
	if s.BackoffLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.BackoffLimit), path.Child("backoffLimit"))...)
	}
	if !template {
		if s.Selector == nil {
			errs = append(errs, field.Required(path.Child("selector"), ""))
		} else if sel, err := metav1.LabelSelectorAsSelector(s.Selector); err == nil && !sel.Matches(labels.Set(s.Template.Labels)) {
			errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), s.Template.Labels,
				"`selector` does not match template `labels`"))
		}
	}
	tp := path.Child("template", "spec")
	switch s.Template.Spec.RestartPolicy {
	case corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		errs = append(errs, field.NotSupported(tp.Child("restartPolicy"), s.Template.Spec.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	}
	return append(errs, validatePodSpec(&s.Template.Spec, tp, true)...)
}

func validateCronJob(o runtime.Object) field.ErrorList {
	c := o.(*batchv1.CronJob)
	path := field.NewPath("spec")
	var errs field.ErrorList
	if c.Spec.Schedule == "" {
		errs = append(errs, field.Required(path.Child("schedule"), ""))
	}
	switch c.Spec.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		errs = append(errs, field.NotSupported(path.Child("concurrencyPolicy"), c.Spec.ConcurrencyPolicy,
			[]batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}))
	}
	return append(errs, validateJobSpec(&c.Spec.JobTemplate.Spec, path.Child("jobTemplate", "spec"), true)...)
}

// validateSelectorImmutable refuses a change of an apps/v1 controller's
// selector ("field is immutable").
