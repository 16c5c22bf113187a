package builtin

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// The warnings of the workload strategies: their pod templates' warnings
// under the template's path, on create and on an update that changes the
// generation, and a few of their own.

var specTemplate = field.NewPath("spec", "template")

// podNameWarning warns about a workload name that is no DNS label, since
// it names the workload's pods.
func podNameWarning(name string) []string {
	if msgs := registry.IsDNS1123Label(name); len(msgs) != 0 {
		return []string{fmt.Sprintf("metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: %v", msgs)}
	}
	return nil
}

// generationChanged is whether an update changed metadata.generation, as
// the workload strategies check before warning about the template again.
func generationChanged(o, old runtime.Object) bool {
	return o.(metav1.Object).GetGeneration() != old.(metav1.Object).GetGeneration()
}

func deploymentWarningsOnCreate(o runtime.Object) []string {
	d := o.(*appsv1.Deployment)
	return append(podNameWarning(d.Name), podTemplateWarnings(specTemplate, &d.Spec.Template)...)
}

func deploymentWarningsOnUpdate(o, old runtime.Object) []string {
	if !generationChanged(o, old) {
		return nil
	}
	return podTemplateWarnings(specTemplate, &o.(*appsv1.Deployment).Spec.Template)
}

func replicaSetWarningsOnCreate(o runtime.Object) []string {
	rs := o.(*appsv1.ReplicaSet)
	return append(podNameWarning(rs.Name), podTemplateWarnings(specTemplate, &rs.Spec.Template)...)
}

func replicaSetWarningsOnUpdate(o, old runtime.Object) []string {
	if !generationChanged(o, old) {
		return nil
	}
	return podTemplateWarnings(specTemplate, &o.(*appsv1.ReplicaSet).Spec.Template)
}

// daemonSetWarningsOnCreate warns about the template only: upstream does
// not check a daemon set's name.
func daemonSetWarningsOnCreate(o runtime.Object) []string {
	return podTemplateWarnings(specTemplate, &o.(*appsv1.DaemonSet).Spec.Template)
}

// daemonSetWarningsOnUpdate warns when the template generation (the
// annotation regis keeps it in, as the v1 API does) changed.
func daemonSetWarningsOnUpdate(o, old runtime.Object) []string {
	d, prev := o.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
	if d.Annotations[daemonSetTemplateGeneration] == prev.Annotations[daemonSetTemplateGeneration] {
		return nil
	}
	return podTemplateWarnings(specTemplate, &d.Spec.Template)
}

const negativeHistoryWarning = "spec.revisionHistoryLimit: a negative value retains all historical revisions; a value >= 0 is recommended"

// statefulSetWarningsOnCreate warns about the template, the claim
// templates' storage and a negative revision history limit; upstream does
// not check a stateful set's name.
func statefulSetWarningsOnCreate(o runtime.Object) []string {
	s := o.(*appsv1.StatefulSet)
	w := podTemplateWarnings(specTemplate, &s.Spec.Template)
	return append(w, statefulSetClaimWarnings(s, func(i int) *field.Path {
		return field.NewPath("spec", "volumeClaimTemplates").Index(i)
	})...)
}

// statefulSetWarningsOnUpdate warns about the template when the
// generation changed, and always about the claim templates (whose paths
// upstream spells with "Spec") and the history limit.
func statefulSetWarningsOnUpdate(o, old runtime.Object) []string {
	s := o.(*appsv1.StatefulSet)
	var w []string
	if generationChanged(o, old) {
		w = podTemplateWarnings(specTemplate, &s.Spec.Template)
	}
	return append(w, statefulSetClaimWarnings(s, func(i int) *field.Path {
		return field.NewPath("spec", "volumeClaimTemplates").Index(i).Child("Spec")
	})...)
}

func statefulSetClaimWarnings(s *appsv1.StatefulSet, path func(i int) *field.Path) []string {
	var w []string
	for i := range s.Spec.VolumeClaimTemplates {
		w = append(w, pvcSpecWarnings(path(i), &s.Spec.VolumeClaimTemplates[i].Spec)...)
	}
	if l := s.Spec.RevisionHistoryLimit; l != nil && *l < 0 {
		w = append(w, negativeHistoryWarning)
	}
	return w
}

// jobSpecWarnings is upstream's WarningsForJobSpec: indexed jobs too big
// to track, then the template's warnings.
func jobSpecWarnings(path *field.Path, spec *batchv1.JobSpec) []string {
	var w []string
	if spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion &&
		derefOr(spec.Completions, 0) > 100_000 && derefOr(spec.Parallelism, 0) > 10_000 {
		w = append(w, fmt.Sprintf("%s: %s", path, "In Indexed Jobs with a number of completions higher than 10^5 and a parallelism higher than 10^4, "+
			"Kubernetes might not be able to track completedIndexes when a big number of indexes fail"))
	}
	return append(w, podTemplateWarnings(path.Child("template"), &spec.Template)...)
}

func jobWarningsOnCreate(o runtime.Object) []string {
	j := o.(*batchv1.Job)
	return append(podNameWarning(j.Name), jobSpecWarnings(field.NewPath("spec"), &j.Spec)...)
}

func jobWarningsOnUpdate(o, old runtime.Object) []string {
	if !generationChanged(o, old) {
		return nil
	}
	return jobSpecWarnings(field.NewPath("spec"), &o.(*batchv1.Job).Spec)
}

var cronJobTemplateSpec = field.NewPath("spec", "jobTemplate", "spec")

func cronJobWarningsOnCreate(o runtime.Object) []string {
	c := o.(*batchv1.CronJob)
	return append(podNameWarning(c.Name), jobSpecWarnings(cronJobTemplateSpec, &c.Spec.JobTemplate.Spec)...)
}

// cronJobWarningsOnUpdate warns about the job template when the
// generation changed, and about a time zone in the schedule (which only a
// stored cron job can have: validation refuses it otherwise), with
// upstream's path.
func cronJobWarningsOnUpdate(o, old runtime.Object) []string {
	c := o.(*batchv1.CronJob)
	var w []string
	if generationChanged(o, old) {
		w = jobSpecWarnings(cronJobTemplateSpec, &c.Spec.JobTemplate.Spec)
	}
	if strings.Contains(c.Spec.Schedule, "TZ") {
		w = append(w, fmt.Sprintf("cannot use TZ or CRON_TZ in %s, use timeZone instead, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
			field.NewPath("spec", "spec", "schedule")))
	}
	return w
}

func replicationControllerWarningsOnCreate(o runtime.Object) []string {
	rc := o.(*corev1.ReplicationController)
	return append(podNameWarning(rc.Name), podTemplateWarnings(specTemplate, rc.Spec.Template)...)
}

// replicationControllerWarningsOnUpdate warns, when the generation
// changed, about the template of the stored controller: upstream passes
// the old template where the new one belongs.
func replicationControllerWarningsOnUpdate(o, old runtime.Object) []string {
	if !generationChanged(o, old) {
		return nil
	}
	return podTemplateWarnings(specTemplate, old.(*corev1.ReplicationController).Spec.Template)
}

func podTemplateWarningsOnCreate(o runtime.Object) []string {
	return podTemplateWarnings(field.NewPath("template"), &o.(*corev1.PodTemplate).Template)
}

// podTemplateWarningsOnUpdate warns when the generation changed: upstream
// bumps a pod template's generation when its template changes.
func podTemplateWarningsOnUpdate(o, old runtime.Object) []string {
	if !generationChanged(o, old) {
		return nil
	}
	return podTemplateWarnings(field.NewPath("template"), &o.(*corev1.PodTemplate).Template)
}
