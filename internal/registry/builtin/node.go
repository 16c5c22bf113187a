package builtin

import (
	nodev1 "k8s.io/api/node/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// nodeRows are node.k8s.io/v1: runtime classes, cluster-scoped, which
// upstream creates on update and updates only with a resourceVersion.
func nodeRows() []*registry.Resource {
	return []*registry.Resource{
		{Group: "node.k8s.io", Version: "v1", Resource: "runtimeclasses", Kind: "RuntimeClass",
			New: newFn[nodev1.RuntimeClass], NewList: newFn[nodev1.RuntimeClassList],
			AllowCreateOnUpdate: true, RequireResourceVersion: true,
			Validate: validateRuntimeClass, ValidateUpdate: validateRuntimeClassUpdate,
			Columns:          runtimeClassColumns,
			WarningsOnCreate: runtimeClassWarnings, WarningsOnUpdate: onUpdate(runtimeClassWarnings)},
	}
}

func validateRuntimeClass(o runtime.Object) field.ErrorList {
	rc := o.(*nodev1.RuntimeClass)
	path := field.NewPath("handler")
	if rc.Handler == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range apivalidation.NameIsDNSLabel(rc.Handler, false) {
		errs = append(errs, field.Invalid(path, rc.Handler, msg))
	}
	return errs
}

// validateRuntimeClassUpdate keeps the handler. Upstream's declarative
// validation reports the change without the value ("Invalid value: null").
func validateRuntimeClassUpdate(o, old runtime.Object) field.ErrorList {
	if o.(*nodev1.RuntimeClass).Handler != old.(*nodev1.RuntimeClass).Handler {
		return field.ErrorList{field.Invalid(field.NewPath("handler"), nil, apivalidation.FieldImmutableErrorMsg)}
	}
	return nil
}

var runtimeClassColumns = []registry.Column{
	{Name: "Handler", Type: "string", Description: "",
		Cell: func(o runtime.Object) any { return o.(*nodev1.RuntimeClass).Handler }},
	registry.AgeColumn,
}
