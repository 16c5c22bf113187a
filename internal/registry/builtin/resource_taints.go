package builtin

import (
	"strings"
	"time"

	resourcev1 "k8s.io/api/resource/v1"
	resourcev1beta2 "k8s.io/api/resource/v1beta2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// deviceTaintRuleMaxConditions is upstream's
// resource.DeviceTaintRuleStatusMaxConditions.
const deviceTaintRuleMaxConditions = 8

// deviceTaintRuleRow is resource.k8s.io/v1's device taint rules
// (pkg/registry/resource/devicetaintrule): cluster-scoped, with a
// generation bumped by spec changes and a status that a create clears and
// an update of the object keeps; /status keeps the spec and resets the
// metadata; updates need a resourceVersion; a delete answers a Status (at
// v1). The taint's timeAdded defaults to now, and moves to now when an
// update changes the effect but not the time. kube-apiserver 1.37 stores
// them as v1beta2.
func deviceTaintRuleRow() *registry.Resource {
	return &registry.Resource{Group: "resource.k8s.io", Version: "v1", Resource: "devicetaintrules", Kind: "DeviceTaintRule",
		New: newFn[resourcev1.DeviceTaintRule], NewList: newFn[resourcev1.DeviceTaintRuleList],
		Status: true, Generation: true, RequireResourceVersion: true,
		StorageVersion: resourcev1beta2.SchemeGroupVersion,
		Default: func(o runtime.Object) {
			if t := &o.(*resourcev1.DeviceTaintRule).Spec.Taint; t.TimeAdded == nil {
				t.TimeAdded = &metav1.Time{Time: time.Now().Truncate(time.Second)}
			}
		},
		PrepareForUpdate: func(o, old runtime.Object) {
			t, prev := &o.(*resourcev1.DeviceTaintRule).Spec.Taint, old.(*resourcev1.DeviceTaintRule).Spec.Taint
			if t.Effect != prev.Effect && t.TimeAdded.Equal(prev.TimeAdded) {
				t.TimeAdded = &metav1.Time{Time: time.Now().Truncate(time.Second)}
			}
		},
		ValidateCreate: func(o runtime.Object) field.ErrorList {
			return validateDeviceTaintRuleSpec(&o.(*resourcev1.DeviceTaintRule).Spec, nil)
		},
		ValidateUpdate: func(o, old runtime.Object) field.ErrorList {
			return validateDeviceTaintRuleSpec(&o.(*resourcev1.DeviceTaintRule).Spec, &old.(*resourcev1.DeviceTaintRule).Spec)
		},
		PrepareForStatusUpdate: resetMetaForStatus,
		ResetFields:            statusResetsMeta,
		ValidateStatusUpdate: func(o, _ runtime.Object) field.ErrorList {
			conds := o.(*resourcev1.DeviceTaintRule).Status.Conditions
			p := field.NewPath("status", "conditions")
			errs := metav1validation.ValidateConditions(conds, p)
			if len(conds) > deviceTaintRuleMaxConditions {
				errs = append(errs, field.TooMany(p, len(conds), deviceTaintRuleMaxConditions))
			}
			return errs
		},
		Columns: deviceTaintRuleColumns,
		Convert: &registry.Conversion{
			ToStorage: func(o runtime.Object) (runtime.Object, error) {
				r := o.(*resourcev1.DeviceTaintRule).DeepCopy()
				t := r.Spec.Taint
				return &resourcev1beta2.DeviceTaintRule{
					TypeMeta:   typeMeta(resourcev1beta2.SchemeGroupVersion.String(), "DeviceTaintRule"),
					ObjectMeta: r.ObjectMeta,
					Spec: resourcev1beta2.DeviceTaintRuleSpec{
						DeviceSelector: (*resourcev1beta2.DeviceTaintSelector)(r.Spec.DeviceSelector),
						Taint: resourcev1beta2.DeviceTaint{Key: t.Key, Value: t.Value,
							Effect: resourcev1beta2.DeviceTaintEffect(t.Effect), TimeAdded: t.TimeAdded}},
					Status: resourcev1beta2.DeviceTaintRuleStatus(r.Status)}, nil
			},
			FromStorage: func(o runtime.Object) (runtime.Object, error) {
				r := o.(*resourcev1beta2.DeviceTaintRule).DeepCopy()
				t := r.Spec.Taint
				return &resourcev1.DeviceTaintRule{
					TypeMeta:   typeMeta(resourcev1.SchemeGroupVersion.String(), "DeviceTaintRule"),
					ObjectMeta: r.ObjectMeta,
					Spec: resourcev1.DeviceTaintRuleSpec{
						DeviceSelector: (*resourcev1.DeviceTaintSelector)(r.Spec.DeviceSelector),
						Taint: resourcev1.DeviceTaint{Key: t.Key, Value: t.Value,
							Effect: resourcev1.DeviceTaintEffect(t.Effect), TimeAdded: t.TimeAdded}},
					Status: resourcev1.DeviceTaintRuleStatus(r.Status)}, nil
			},
			NewStored:     newFn[resourcev1beta2.DeviceTaintRule],
			NewStoredList: newFn[resourcev1beta2.DeviceTaintRuleList],
		},
	}
}

// deviceTaintEffects are the valid effects, sorted (upstream's
// validDeviceTaintEffects as its error lists them).
var deviceTaintEffects = []resourcev1.DeviceTaintEffect{resourcev1.DeviceTaintEffectNoExecute,
	resourcev1.DeviceTaintEffectNoSchedule, resourcev1.DeviceTaintEffectNone}

// validateDeviceTaintRuleSpec is upstream's validateDeviceTaintRuleSpec:
// the selector's driver, pool and device names, and the taint, whose
// effect is checked only when it is new or changes.
func validateDeviceTaintRuleSpec(s, old *resourcev1.DeviceTaintRuleSpec) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if sel := s.DeviceSelector; sel != nil {
		p := spec.Child("deviceSelector")
		if sel.Driver != nil {
			errs = append(errs, validateCSIDriverName(*sel.Driver, p.Child("driver"))...)
		}
		if sel.Pool != nil {
			errs = append(errs, validatePoolName(*sel.Pool, p.Child("pool"))...)
		}
		if sel.Device != nil {
			errs = append(errs, validateDNS1123Label(*sel.Device, p.Child("device"))...)
		}
	}
	t, p := s.Taint, spec.Child("taint")
	errs = append(errs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
	if t.Value != "" {
		for _, msg := range registry.IsValidLabelValue(t.Value) {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, msg))
		}
	}
	if old == nil || old.Taint.Effect != t.Effect {
		switch {
		case t.Effect == "":
			errs = append(errs, field.Required(p.Child("effect"), ""))
		case !containsEffect(t.Effect):
			errs = append(errs, field.NotSupported(p.Child("effect"), t.Effect, deviceTaintEffects))
		}
	}
	return errs
}

func containsEffect(e resourcev1.DeviceTaintEffect) bool {
	for _, v := range deviceTaintEffects {
		if v == e {
			return true
		}
	}
	return false
}

// validatePoolName is upstream's: required, at most 253 bytes, each
// '/'-separated part a DNS subdomain.
func validatePoolName(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	if len(name) > validation.DNS1123SubdomainMaxLength {
		errs = append(errs, field.TooLong(p, "", validation.DNS1123SubdomainMaxLength))
	}
	for _, part := range strings.Split(name, "/") {
		for _, msg := range registry.IsDNS1123Subdomain(part) {
			errs = append(errs, field.Invalid(p, part, msg))
		}
	}
	return errs
}

var deviceTaintRuleColumns = []registry.Column{
	{Name: "Key", Type: "string", Description: resourcev1.DeviceTaint{}.SwaggerDoc()["key"],
		Cell: func(o runtime.Object) any { return o.(*resourcev1.DeviceTaintRule).Spec.Taint.Key }},
	{Name: "Value", Type: "string", Description: resourcev1.DeviceTaint{}.SwaggerDoc()["value"],
		Cell: func(o runtime.Object) any { return o.(*resourcev1.DeviceTaintRule).Spec.Taint.Value }},
	{Name: "Effect", Type: "string", Description: resourcev1.DeviceTaint{}.SwaggerDoc()["effect"],
		Cell: func(o runtime.Object) any { return string(o.(*resourcev1.DeviceTaintRule).Spec.Taint.Effect) }},
	{Name: "TimeAdded", Type: "string", Description: resourcev1.DeviceTaint{}.SwaggerDoc()["timeAdded"],
		Cell: func(o runtime.Object) any {
			if t := o.(*resourcev1.DeviceTaintRule).Spec.Taint.TimeAdded; t != nil {
				return registry.HumanAge(*t)
			}
			return ""
		}},
	registry.AgeColumn,
}
