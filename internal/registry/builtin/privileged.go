package builtin

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// privilegedRefused is the detail of the error a privileged container
// gets while kube-apiserver's --allow-privileged is false (its default).
const privilegedRefused = "disallowed by cluster policy"

// AllowPrivileged is kube-apiserver's --allow-privileged=true: the rows
// of rs no longer refuse privileged containers (pods and every pod
// template), the other checks of a security context unchanged.
func AllowPrivileged(rs []*registry.Resource) {
	for _, r := range rs {
		if v := r.Validate; v != nil {
			r.Validate = func(obj runtime.Object) field.ErrorList { return withoutPrivileged(v(obj)) }
		}
		if v := r.ValidateUpdate; v != nil {
			r.ValidateUpdate = func(obj, old runtime.Object) field.ErrorList { return withoutPrivileged(v(obj, old)) }
		}
	}
}

func withoutPrivileged(errs field.ErrorList) field.ErrorList {
	if len(errs) == 0 {
		return errs
	}
	out := errs[:0:0]
	for _, e := range errs {
		if e.Type == field.ErrorTypeForbidden && e.Detail == privilegedRefused && strings.HasSuffix(e.Field, "securityContext.privileged") {
			continue
		}
		out = append(out, e)
	}
	return out
}
