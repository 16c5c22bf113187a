package builtin

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Metadata checks beyond those of k8s.io/apimachinery's ValidateObjectMeta,
// which the store makes for every resource.

// apimachineryMetaGroups are the API groups whose upstream validation
// checks metadata with k8s.io/apimachinery's ValidateObjectMeta alone (or
// not at all, leaving it to the generic store, as policy's
// PodDisruptionBudgets): admissionregistration.k8s.io,
// apiextensions-apiserver's apiextensions.k8s.io (CRDs: their cleanup
// finalizer is not fully qualified), kube-aggregator's
// apiregistration.k8s.io, coordination.k8s.io
// (leases), node.k8s.io (runtime classes) and policy. Every other
// resource is validated with pkg/apis/core/validation's ValidateObjectMeta
// and ValidateObjectMetaUpdate (v1.37), which also check the finalizer
// names (kubeFinalizerName).
var apimachineryMetaGroups = []string{
	"admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "coordination.k8s.io", "node.k8s.io", "policy",
}

// withFinalizerNames makes the rows validated as core's ValidateObjectMeta
// check metadata.finalizers with kubeFinalizerName, before the rest of the
// object, as upstream's errors for metadata come first.
func withFinalizerNames(rs []*registry.Resource) {
	for _, r := range rs {
		if r.Internal || slices.Contains(apimachineryMetaGroups, r.Group) {
			continue
		}
		validate := r.Validate
		r.Validate = func(o runtime.Object) field.ErrorList {
			errs := validateMetaFinalizers(o)
			if validate != nil {
				errs = append(errs, validate(o)...)
			}
			return errs
		}
	}
}

// validateMetaFinalizers is the loop core's ValidateObjectMeta adds.
func validateMetaFinalizers(o runtime.Object) field.ErrorList {
	m, ok := o.(metav1.Object)
	if !ok {
		return nil
	}
	if len(m.GetFinalizers()) == 0 {
		return nil
	}
	var errs field.ErrorList
	path := field.NewPath("metadata", "finalizers")
	for i, f := range m.GetFinalizers() {
		errs = append(errs, kubeFinalizerName(f, path.Index(i))...)
	}
	return errs
}

// standardFinalizers are the finalizer names that need no domain.
var standardFinalizers = []string{"kubernetes", metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents}

// kubeFinalizerName is upstream's validateKubeFinalizerName: a name
// without a "/" must be a standard finalizer.
func kubeFinalizerName(name string, path *field.Path) field.ErrorList {
	if !strings.Contains(name, "/") && !slices.Contains(standardFinalizers, name) {
		return field.ErrorList{field.Invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified")}
	}
	return nil
}
