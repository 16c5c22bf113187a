package builtin

import (
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Namespaces and PodDisruptionBudgets (k8s.io/kubernetes
// pkg/apis/core/validation, pkg/apis/policy/validation and the strategies
// of pkg/registry/core/namespace and pkg/registry/policy/poddisruptionbudget,
// v1.37).
//
// The store runs a row's Validate on every write (create, update, and the
// status and finalize subresources), its ValidateCreate on create only and
// its ValidateUpdate on updates of the object itself only. Upstream
// validates each subresource with its own function; the store has no hook
// for a write to /status or /finalize alone, so the few checks upstream
// makes on every update but never on create (a namespace's indexed
// finalizers, a node's addresses) are told apart by beingUpdated.

// beingUpdated tells an update from a create: the store gives every update
// the stored resourceVersion. A create has none, unless the client sent
// one, which storage then refuses (500) after validation: only which error
// such a create gets first can differ from upstream.
func beingUpdated(o runtime.Object) bool {
	m, ok := o.(metav1.Object)
	return ok && m.GetResourceVersion() != ""
}

// validateNamespace is what every write checks: the phase rule of
// upstream's ValidateNamespaceStatusUpdate (the other writes keep the
// stored status, or start Active), and on updates the finalizers as
// ValidateNamespaceFinalizeUpdate does, with their index: an update of the
// namespace itself keeps the stored finalizers (and upstream validates
// nothing else), a status update keeps the stored spec, so only /finalize
// can make them fail. A create checks them in validateNamespaceCreate.
func validateNamespace(o runtime.Object) field.ErrorList {
	ns := o.(*corev1.Namespace)
	var errs field.ErrorList
	if beingUpdated(o) {
		for i, f := range ns.Spec.Finalizers {
			errs = append(errs, validateFinalizerName(string(f), field.NewPath("spec", "finalizers").Index(i))...)
		}
	}
	return append(errs, validateNamespacePhase(ns)...)
}

// validateNamespaceCreate is the rest of upstream's ValidateNamespace on
// create: the finalizers, whose errors name spec.finalizers without an
// index.
func validateNamespaceCreate(o runtime.Object) field.ErrorList {
	var errs field.ErrorList
	for _, f := range o.(*corev1.Namespace).Spec.Finalizers {
		errs = append(errs, validateFinalizerName(string(f), field.NewPath("spec", "finalizers"))...)
	}
	return errs
}

// validateNamespaceUpdate has nothing to add: upstream's ValidateUpdate
// repeats ValidateNamespace on finalizers kept from the stored namespace.
func validateNamespaceUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validateNamespacePhase(ns *corev1.Namespace) field.ErrorList {
	path := field.NewPath("status", "Phase")
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			return field.ErrorList{field.Invalid(path, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty")}
		}
	} else if ns.Status.Phase != corev1.NamespaceTerminating {
		return field.ErrorList{field.Invalid(path, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")}
	}
	return nil
}

// validateFinalizerName is upstream's: a qualified name, and one without a
// "/" must be a standard finalizer.
func validateFinalizerName(name string, path *field.Path) field.ErrorList {
	return append(apivalidation.ValidateFinalizerName(name, path), kubeFinalizerName(name, path)...)
}

// validatePodDisruptionBudget checks the status, which only a status
// update changes (upstream's ValidatePodDisruptionBudgetStatusUpdate): a
// create clears it and an update keeps the stored one.
func validatePodDisruptionBudget(o runtime.Object) field.ErrorList {
	return validatePDBStatus(&o.(*policyv1.PodDisruptionBudget).Status, field.NewPath("status"))
}

// validatePodDisruptionBudgetCreate is the strategy's Validate: the spec,
// with a strict selector (an update's is checked by
// validatePodDisruptionBudgetUpdate, with the selector rule of the stored
// budget).
func validatePodDisruptionBudgetCreate(o runtime.Object) field.ErrorList {
	return validatePDBSpec(&o.(*policyv1.PodDisruptionBudget).Spec, false, field.NewPath("spec"))
}

// validatePodDisruptionBudgetUpdate is the strategy's ValidateUpdate: the
// spec again, with invalid label values allowed in the selector if the
// stored one has some.
func validatePodDisruptionBudgetUpdate(o, old runtime.Object) field.ErrorList {
	pdb, prev := o.(*policyv1.PodDisruptionBudget), old.(*policyv1.PodDisruptionBudget)
	allowInvalid := prev.Spec.Selector != nil && len(metav1validation.ValidateLabelSelector(prev.Spec.Selector,
		metav1validation.LabelSelectorValidationOptions{}, nil)) > 0
	return validatePDBSpec(&pdb.Spec, allowInvalid, field.NewPath("spec"))
}

// validatePDBSpec is upstream's ValidatePodDisruptionBudgetSpec.
func validatePDBSpec(s *policyv1.PodDisruptionBudgetSpec, allowInvalidLabelValue bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(path, internalJSON{*s}, "minAvailable and maxUnavailable cannot be both set"))
	}
	if s.MinAvailable != nil {
		errs = append(errs, validatePDBBound(*s.MinAvailable, path.Child("minAvailable"))...)
	}
	if s.MaxUnavailable != nil {
		errs = append(errs, validatePDBBound(*s.MaxUnavailable, path.Child("maxUnavailable"))...)
	}
	opts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: allowInvalidLabelValue}
	errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, opts, path.Child("selector"))...)
	if p := s.UnhealthyPodEvictionPolicy; p != nil && *p != policyv1.IfHealthyBudget && *p != policyv1.AlwaysAllow {
		errs = append(errs, field.NotSupported(path.Child("unhealthyPodEvictionPolicy"), *p,
			[]policyv1.UnhealthyPodEvictionPolicyType{policyv1.AlwaysAllow, policyv1.IfHealthyBudget}))
	}
	return errs
}

// validatePDBBound is upstream's ValidatePositiveIntOrPercent and
// IsNotMoreThan100Percent.
func validatePDBBound(v intstr.IntOrString, path *field.Path) field.ErrorList {
	errs := validateIntOrPercent(v, path)
	if v.Type == intstr.String && len(validation.IsValidPercent(v.StrVal)) == 0 {
		if n, _ := percentValue(v); n > 100 {
			errs = append(errs, field.Invalid(path, internalJSON{v}, "must not be greater than 100%"))
		}
	}
	return errs
}

// validatePDBStatus is upstream's ValidatePodDisruptionBudgetStatusUpdate
// for policy/v1.
func validatePDBStatus(s *policyv1.PodDisruptionBudgetStatus, path *field.Path) field.ErrorList {
	errs := metav1validation.ValidateConditions(s.Conditions, path.Child("conditions"))
	for _, c := range []struct {
		name  string
		value int32
	}{
		{"disruptionsAllowed", s.DisruptionsAllowed},
		{"currentHealthy", s.CurrentHealthy},
		{"desiredHealthy", s.DesiredHealthy},
		{"expectedPods", s.ExpectedPods},
	} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(c.value), path.Child(c.name))...)
	}
	return errs
}
