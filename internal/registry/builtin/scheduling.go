package builtin

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// The priority values of scheduling.k8s.io (k8s.io/kubernetes
// pkg/apis/scheduling/types.go).
const (
	highestUserDefinablePriority = int32(1000000000)
	systemCriticalPriority       = 2 * highestUserDefinablePriority
	systemPriorityClassPrefix    = "system-"
)

// schedulingRows are scheduling.k8s.io/v1: priority classes, whose
// generation starts at 1 and is never bumped.
func schedulingRows() []*registry.Resource {
	return []*registry.Resource{
		{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses", Kind: "PriorityClass",
			ShortNames: []string{"pc"},
			New:        newFn[schedulingv1.PriorityClass], NewList: newFn[schedulingv1.PriorityClassList],
			Default: defaultPriorityClass, PrepareForCreate: startGeneration,
			Validate: validatePriorityClass, ValidateUpdate: validatePriorityClassUpdate,
			Columns: priorityClassColumns},
	}
}

// SystemPriorityClasses are the priority classes kube-apiserver creates at
// start (k8s.io/kubernetes pkg/apis/scheduling/v1/helpers.go), for the
// bootstrap controller.
func SystemPriorityClasses() []*schedulingv1.PriorityClass {
	pc := func(name string, value int32, desc string) *schedulingv1.PriorityClass {
		p := &schedulingv1.PriorityClass{TypeMeta: typeMeta("scheduling.k8s.io/v1", "PriorityClass"),
			ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value, Description: desc}
		defaultPriorityClass(p)
		return p
	}
	return []*schedulingv1.PriorityClass{
		pc("system-node-critical", systemCriticalPriority+1000,
			"Used for system critical pods that must not be moved from their current node."),
		pc("system-cluster-critical", systemCriticalPriority,
			"Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
	}
}

func defaultPriorityClass(o runtime.Object) {
	pc := o.(*schedulingv1.PriorityClass)
	if pc.PreemptionPolicy == nil {
		pc.PreemptionPolicy = ptr(corev1.PreemptLowerPriority)
	}
}

func validatePriorityClass(o runtime.Object) field.ErrorList {
	pc := o.(*schedulingv1.PriorityClass)
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, systemPriorityClassPrefix) {
		if err := knownSystemPriorityClass(pc); err != nil {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+systemPriorityClassPrefix+"' prefix are reserved for system use only. error: "+err.Error()))
		}
	} else if pc.Value > highestUserDefinablePriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"),
			fmt.Sprintf("maximum allowed value of a user defined priority is %v", highestUserDefinablePriority)))
	}
	if p := pc.PreemptionPolicy; p != nil && *p != corev1.PreemptLowerPriority && *p != corev1.PreemptNever {
		errs = append(errs, field.NotSupported(field.NewPath("preemptionPolicy"), *p,
			[]string{string(corev1.PreemptLowerPriority), string(corev1.PreemptNever)}))
	}
	return errs
}

func knownSystemPriorityClass(pc *schedulingv1.PriorityClass) error {
	for _, s := range SystemPriorityClasses() {
		if s.Name != pc.Name {
			continue
		}
		if s.Value != pc.Value {
			return fmt.Errorf("value of %v PriorityClass must be %v", s.Name, s.Value)
		}
		if s.GlobalDefault != pc.GlobalDefault {
			return fmt.Errorf("globalDefault of %v PriorityClass must be %v", s.Name, s.GlobalDefault)
		}
		return nil
	}
	return fmt.Errorf("%v is not a known system priority class", pc.Name)
}

func validatePriorityClassUpdate(o, old runtime.Object) field.ErrorList {
	pc, prev := o.(*schedulingv1.PriorityClass), old.(*schedulingv1.PriorityClass)
	var errs field.ErrorList
	if pc.Value != prev.Value {
		errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
	}
	return append(errs, apivalidation.ValidateImmutableField(pc.PreemptionPolicy, prev.PreemptionPolicy,
		field.NewPath("preemptionPolicy"))...)
}

var priorityClassColumns = []registry.Column{
	{Name: "Value", Type: "integer", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["value"],
		Cell: func(o runtime.Object) any { return int64(o.(*schedulingv1.PriorityClass).Value) }},
	{Name: "Global-Default", Type: "boolean", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"],
		Cell: func(o runtime.Object) any { return o.(*schedulingv1.PriorityClass).GlobalDefault }},
	registry.AgeColumn,
	{Name: "PreemptionPolicy", Type: "string", Description: schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"],
		Cell: func(o runtime.Object) any {
			if p := o.(*schedulingv1.PriorityClass).PreemptionPolicy; p != nil {
				return string(*p)
			}
			return ""
		}},
}
