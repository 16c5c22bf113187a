package builtin

import (
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
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
		}
		// A nil selector selects nothing, so it matches no template either.
		if sel, err := metav1.LabelSelectorAsSelector(s.Selector); err == nil && !sel.Matches(labels.Set(s.Template.Labels)) {
			errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), s.Template.Labels,
				"`selector` does not match template `labels`"))
		}
	}
	tp := path.Child("template", "spec")
	switch s.Template.Spec.RestartPolicy {
	case corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		errs = append(errs, field.Required(tp.Child("restartPolicy"), `valid values: "OnFailure", "Never"`))
	}
	if m := s.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		errs = append(errs, field.NotSupported(path.Child("completionMode"), *m, []string{"NonIndexed", "Indexed"}))
	}
	errs = append(errs, validateIndexedJob(s, path)...)
	if s.TTLSecondsAfterFinished != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.TTLSecondsAfterFinished), path.Child("ttlSecondsAfterFinished"))...)
	}
	if p := s.PodFailurePolicy; p != nil {
		for i, r := range p.Rules {
			switch r.Action {
			case batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyActionFailIndex,
				batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore:
			default:
				errs = append(errs, field.NotSupported(path.Child("podFailurePolicy", "rules").Index(i).Child("action"), r.Action,
					[]string{"Count", "FailIndex", "FailJob", "Ignore"}))
			}
		}
	}
	errs = append(errs, validatePodSpec(&s.Template.Spec, tp, true)...)
	return append(errs, validatePodTemplateAppArmor(&s.Template, path.Child("template"))...)
}

// The limits of an Indexed job (upstream's maxParallelismForIndexedJob
// and its neighbours).
const (
	maxIndexedParallelism         = 100000
	maxFailedIndexes              = 100_000
	completionsSoftLimit          = 100_000
	maxHighCompletionsParallelism = 10_000
	maxHighCompletionsFailures    = 10_000
)

// validateIndexedJob is the part of upstream's validateJobSpec about
// completion modes: an Indexed job needs completions and bounds its
// parallelism and failed indexes; per-index backoff needs Indexed.
func validateIndexedJob(s *batchv1.JobSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.CompletionMode == nil || *s.CompletionMode == batchv1.NonIndexedCompletion {
		if s.BackoffLimitPerIndex != nil {
			errs = append(errs, field.Invalid(path.Child("backoffLimitPerIndex"), *s.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
		if s.MaxFailedIndexes != nil {
			errs = append(errs, field.Invalid(path.Child("maxFailedIndexes"), *s.MaxFailedIndexes, "requires indexed completion mode"))
		}
		return errs
	}
	if *s.CompletionMode != batchv1.IndexedCompletion {
		return nil
	}
	if s.Completions == nil {
		errs = append(errs, field.Required(path.Child("completions"), "when completion mode is Indexed"))
	}
	if s.Parallelism != nil && *s.Parallelism > maxIndexedParallelism {
		errs = append(errs, field.Invalid(path.Child("parallelism"), *s.Parallelism,
			fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxIndexedParallelism)))
	}
	if s.Completions != nil && s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > *s.Completions {
		errs = append(errs, field.Invalid(path.Child("maxFailedIndexes"), *s.MaxFailedIndexes, "must be less than or equal to completions"))
	}
	if s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > maxFailedIndexes {
		errs = append(errs, field.Invalid(path.Child("maxFailedIndexes"), *s.MaxFailedIndexes,
			fmt.Sprintf("must be less than or equal to %d", maxFailedIndexes)))
	}
	if s.Completions == nil || *s.Completions <= completionsSoftLimit || s.BackoffLimitPerIndex == nil {
		return errs
	}
	if s.MaxFailedIndexes == nil {
		errs = append(errs, field.Required(path.Child("maxFailedIndexes"), fmt.Sprintf("must be specified when completions is above %d", completionsSoftLimit)))
	}
	if s.Parallelism != nil && *s.Parallelism > maxHighCompletionsParallelism {
		errs = append(errs, field.Invalid(path.Child("parallelism"), *s.Parallelism, fmt.Sprintf(
			"must be less than or equal to %d when completions are above %d and used with backoff limit per index", maxHighCompletionsParallelism, completionsSoftLimit)))
	}
	if s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > maxHighCompletionsFailures {
		errs = append(errs, field.Invalid(path.Child("maxFailedIndexes"), *s.MaxFailedIndexes, fmt.Sprintf(
			"must be less than or equal to %d when completions are above %d and used with backoff limit per index", maxHighCompletionsFailures, completionsSoftLimit)))
	}
	return errs
}

// validateJobName is upstream's validateNameAllowsCompletions, which ends
// both ValidateJobCreate and ValidateJobUpdate: the pods of an Indexed job
// are named and hostnamed NAME-INDEX, so the name with the highest index
// must be a DNS label.
func validateJobName(o runtime.Object) field.ErrorList {
	j := o.(*batchv1.Job)
	s := &j.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || *s.Completions <= 0 {
		return nil
	}
	host := fmt.Sprintf("%s-%d", j.Name, *s.Completions-1)
	if len(registry.IsDNS1123Label(host)) == 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), j.Name, "will not able to create pod with invalid DNS label: "+host)}
}

func validateCronJob(o runtime.Object) field.ErrorList {
	c := o.(*batchv1.CronJob)
	path := field.NewPath("spec")
	var errs field.ErrorList
	if c.Spec.Schedule == "" {
		errs = append(errs, field.Required(path.Child("schedule"), ""))
	} else {
		errs = append(errs, validateSchedule(c.Spec.Schedule, path.Child("schedule"))...)
	}
	if tz := c.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "Local" {
			msg := "unknown time zone " + *tz
			errs = append(errs, field.Invalid(path.Child("timeZone"), *tz, msg))
		}
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{{"startingDeadlineSeconds", c.Spec.StartingDeadlineSeconds}} {
		if f.v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(*f.v, path.Child(f.name))...)
		}
	}
	for _, f := range []struct {
		name string
		v    *int32
	}{{"successfulJobsHistoryLimit", c.Spec.SuccessfulJobsHistoryLimit}, {"failedJobsHistoryLimit", c.Spec.FailedJobsHistoryLimit}} {
		if f.v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*f.v), path.Child(f.name))...)
		}
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

// validateJobUpdate is the part of upstream's ValidateJobSpecUpdate that
// compares with the stored job: the selector, completion mode, failure and
// success policies and managedBy never change; the template changes only
// while the job is suspended, and then only in its scheduling directives.
func validateJobUpdate(o, old runtime.Object) field.ErrorList {
	return append(validateJobSpecUpdate(o, old), validateJobName(o)...)
}

func validateJobSpecUpdate(o, old runtime.Object) field.ErrorList {
	s, prev := &o.(*batchv1.Job).Spec, &old.(*batchv1.Job).Spec
	path := field.NewPath("spec")
	var errs field.ErrorList
	immutable := func(name string, v, prevV any) {
		if !equalJSON(v, prevV) {
			errs = append(errs, field.Invalid(path.Child(name), internalJSON{v}, apivalidation.FieldImmutableErrorMsg))
		}
	}
	immutable("selector", s.Selector, prev.Selector)
	indexed := s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
	if !equalJSON(s.Completions, prev.Completions) && (!indexed || s.Completions == nil || prev.Completions == nil) {
		var v any
		if s.Completions != nil {
			v = *s.Completions
		}
		errs = append(errs, field.Invalid(path.Child("completions"), v, apivalidation.FieldImmutableErrorMsg))
	}
	prevTemplate := prev.Template.DeepCopy()
	if prev.Suspend != nil && *prev.Suspend {
		t := &s.Template
		if t.Spec.Affinity != nil {
			if prevTemplate.Spec.Affinity == nil {
				prevTemplate.Spec.Affinity = &corev1.Affinity{}
			}
			prevTemplate.Spec.Affinity.NodeAffinity = t.Spec.Affinity.NodeAffinity
		} else if a := prevTemplate.Spec.Affinity; a != nil && a.PodAffinity == nil && a.PodAntiAffinity == nil {
			prevTemplate.Spec.Affinity = nil
		}
		prevTemplate.Spec.NodeSelector = t.Spec.NodeSelector
		prevTemplate.Spec.Tolerations = t.Spec.Tolerations
		prevTemplate.Annotations = t.Annotations
		prevTemplate.Labels = t.Labels
		prevTemplate.Spec.SchedulingGates = t.Spec.SchedulingGates
	}
	immutable("template", &s.Template, prevTemplate)
	immutable("completionMode", s.CompletionMode, prev.CompletionMode)
	immutable("podFailurePolicy", s.PodFailurePolicy, prev.PodFailurePolicy)
	immutable("backoffLimitPerIndex", s.BackoffLimitPerIndex, prev.BackoffLimitPerIndex)
	immutable("managedBy", s.ManagedBy, prev.ManagedBy)
	immutable("successPolicy", s.SuccessPolicy, prev.SuccessPolicy)
	return errs
}

// validateSchedule checks a cron schedule's form as upstream's parser
// (robfig/cron's standard parser) does: a descriptor or five fields, no
// time zone.
func validateSchedule(schedule string, path *field.Path) field.ErrorList {
	if strings.Contains(schedule, "TZ") {
		return field.ErrorList{field.Invalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")}
	}
	if strings.HasPrefix(schedule, "@") {
		return nil
	}
	fields := strings.Fields(schedule)
	if len(fields) != 5 {
		return field.ErrorList{field.Invalid(path, schedule, fmt.Sprintf("expected exactly 5 fields, found %d: %v", len(fields), fields))}
	}
	return nil
}

// cronJobName is upstream's cron job name rule: a DNS subdomain of at
// most 52 characters, so that the names of its jobs fit.
func cronJobName(name string, prefix bool) []string {
	msgs := apivalidation.NameIsDNSSubdomain(name, prefix)
	if !prefix && len(name) > 52 {
		msgs = append(msgs, "must be no more than 52 characters")
	}
	return msgs
}
