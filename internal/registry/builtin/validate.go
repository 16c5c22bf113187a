package builtin

import (
	"encoding/json"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The validation of this file covers what breaks clients and controllers
// when it is absent or wrong, with the field paths, error types and
// messages of k8s.io/kubernetes pkg/apis/*/validation (v1.37). It is not
// upstream's whole validation.

// maxSecretSize is the largest total size of a secret's or config map's data.
const maxSecretSize = 1 * 1024 * 1024

func validatePod(o runtime.Object) field.ErrorList {
	p := o.(*corev1.Pod)
	return validatePodSpec(&p.Spec, field.NewPath("spec"), false)
}

// validatePodSpec checks containers, their names, images and ports, the
// restart and DNS policies. template tells a pod template (whose restart
// policy the owner restricts) from a pod.
func validatePodSpec(s *corev1.PodSpec, path *field.Path, template bool) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), ""))
	}
	errs = append(errs, validateContainers(s.InitContainers, path.Child("initContainers"), names)...)
	errs = append(errs, validateContainers(s.Containers, path.Child("containers"), names)...)
	switch s.RestartPolicy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	case "":
		errs = append(errs, field.Required(path.Child("restartPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("restartPolicy"), s.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	}
	switch s.DNSPolicy {
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault, corev1.DNSNone:
	case "":
		errs = append(errs, field.Required(path.Child("dnsPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("dnsPolicy"), s.DNSPolicy,
			[]corev1.DNSPolicy{corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault, corev1.DNSNone}))
	}
	vols := sets.New[string]()
	for i, v := range s.Volumes {
		p := path.Child("volumes").Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case vols.Has(v.Name):
			errs = append(errs, field.Duplicate(p.Child("name"), v.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), v.Name, msg))
			}
		}
		vols.Insert(v.Name)
	}
	if s.TerminationGracePeriodSeconds != nil && *s.TerminationGracePeriodSeconds < 0 {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*s.TerminationGracePeriodSeconds, path.Child("terminationGracePeriodSeconds"))...)
	}
	return errs
}

func validateContainers(cs []corev1.Container, path *field.Path, names sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	for i, c := range cs {
		p := path.Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case names.Has(c.Name):
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(c.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), c.Name, msg))
			}
		}
		names.Insert(c.Name)
		if c.Image == "" {
			errs = append(errs, field.Required(p.Child("image"), ""))
		}
		ports := sets.New[string]()
		for j, port := range c.Ports {
			pp := p.Child("ports").Index(j)
			if port.Name != "" {
				for _, msg := range validation.IsValidPortName(port.Name) {
					errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
				}
				if ports.Has(port.Name) {
					errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
				}
				ports.Insert(port.Name)
			}
			if port.ContainerPort == 0 {
				errs = append(errs, field.Required(pp.Child("containerPort"), ""))
			} else {
				for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
					errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
				}
			}
			if port.HostPort != 0 {
				for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
					errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, msg))
				}
			}
			switch port.Protocol {
			case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
			case "":
				errs = append(errs, field.Required(pp.Child("protocol"), ""))
			default:
				errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol,
					[]corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}))
			}
		}
		envs := p.Child("env")
		for j, e := range c.Env {
			if e.Name == "" {
				errs = append(errs, field.Required(envs.Index(j).Child("name"), ""))
			}
		}
	}
	return errs
}

// validatePodUpdate refuses changes of a pod's spec other than the ones
// upstream allows (images, activeDeadlineSeconds, added tolerations,
// terminationGracePeriodSeconds), with upstream's message.
func validatePodUpdate(o, old runtime.Object) field.ErrorList {
	p, prev := o.(*corev1.Pod).Spec.DeepCopy(), old.(*corev1.Pod).Spec.DeepCopy()
	for i := range p.Containers {
		if i < len(prev.Containers) {
			p.Containers[i].Image = prev.Containers[i].Image
		}
	}
	for i := range p.InitContainers {
		if i < len(prev.InitContainers) {
			p.InitContainers[i].Image = prev.InitContainers[i].Image
		}
	}
	p.ActiveDeadlineSeconds = prev.ActiveDeadlineSeconds
	p.TerminationGracePeriodSeconds = prev.TerminationGracePeriodSeconds
	p.Tolerations = prev.Tolerations
	p.SchedulingGates = prev.SchedulingGates
	if prev.NodeName == "" {
		p.NodeName = "" // binding
	}
	if equalJSON(p, prev) {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec"), "pod updates may not change fields other than "+
		"`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"+
		"`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "+
		"(allow it to be set to 1 if it was previously negative)")}
}

func validateService(o runtime.Object) field.ErrorList {
	s := o.(*corev1.Service)
	var errs field.ErrorList
	path := field.NewPath("spec")
	switch s.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		errs = append(errs, field.NotSupported(path.Child("type"), s.Spec.Type, []corev1.ServiceType{
			corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort}))
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		if s.Spec.ExternalName == "" {
			errs = append(errs, field.Required(path.Child("externalName"), ""))
		}
	} else if len(s.Spec.Ports) == 0 && s.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(path.Child("ports"), ""))
	}
	names := sets.New[string]()
	for i, p := range s.Spec.Ports {
		pp := path.Child("ports").Index(i)
		if len(s.Spec.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		} else if p.Name != "" {
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), p.Name, msg))
			}
			if names.Has(p.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			names.Insert(p.Name)
		}
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(pp.Child("port"), p.Port, msg))
		}
		if p.TargetPort.IntVal != 0 || p.TargetPort.StrVal == "" {
			for _, msg := range validation.IsValidPortNum(p.TargetPort.IntValue()) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), p.TargetPort, msg))
			}
		}
	}
	return errs
}

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
	return append(errs, validatePodSpec(&rc.Spec.Template.Spec, path.Child("template", "spec"), true)...)
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
		if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && !s.Empty() && !s.Matches(labels.Set(t.Labels)) {
			errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), t.Labels,
				"`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, validatePodSpec(&t.Spec, path.Child("template", "spec"), true)...)
	return errs
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
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if d.Spec.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(path.Child("strategy", "rollingUpdate"),
				"may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
	default:
		errs = append(errs, field.NotSupported(path.Child("strategy", "type"), d.Spec.Strategy.Type,
			[]appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType}))
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
	return append(errs, validateTemplateRestartAlways(&s.Spec.Template.Spec, path.Child("template", "spec"))...)
}

func validateDaemonSet(o runtime.Object) field.ErrorList {
	d := o.(*appsv1.DaemonSet)
	path := field.NewPath("spec")
	errs := validateWorkload("daemonset", d.Spec.Selector, &d.Spec.Template, path)
	return append(errs, validateTemplateRestartAlways(&d.Spec.Template.Spec, path.Child("template", "spec"))...)
}

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
func validateSelectorImmutable(o, old runtime.Object) field.ErrorList {
	sel := reflect.ValueOf(o).Elem().FieldByName("Spec").FieldByName("Selector").Interface()
	prev := reflect.ValueOf(old).Elem().FieldByName("Spec").FieldByName("Selector").Interface()
	return apivalidation.ValidateImmutableField(sel, prev, field.NewPath("spec").Child("selector"))
}

// equalJSON compares two values by their JSON encoding, so that nil and
// empty collections that encode alike are equal.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
