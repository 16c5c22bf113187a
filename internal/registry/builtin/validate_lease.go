package builtin

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Leases (k8s.io/kubernetes pkg/apis/coordination/validation and
// pkg/registry/coordination/lease, v1.37). The CoordinatedLeaderElection
// feature is off by default, so strategy and preferredHolder are dropped
// unless the stored lease has them.

func prepareLease(o runtime.Object) {
	l := o.(*coordinationv1.Lease)
	l.Spec.Strategy = nil
	l.Spec.PreferredHolder = nil
}

func prepareLeaseUpdate(o, old runtime.Object) {
	l, prev := o.(*coordinationv1.Lease), old.(*coordinationv1.Lease)
	if prev.Spec.Strategy == nil {
		l.Spec.Strategy = nil
	}
	if prev.Spec.PreferredHolder == nil {
		l.Spec.PreferredHolder = nil
	}
}

// validateLease is upstream's ValidateLeaseSpec.
func validateLease(o runtime.Object) field.ErrorList {
	s := &o.(*coordinationv1.Lease).Spec
	path := field.NewPath("spec")
	var errs field.ErrorList
	if s.LeaseDurationSeconds != nil && *s.LeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(path.Child("leaseDurationSeconds"), *s.LeaseDurationSeconds, "must be greater than 0"))
	}
	if s.LeaseTransitions != nil && *s.LeaseTransitions < 0 {
		errs = append(errs, field.Invalid(path.Child("leaseTransitions"), *s.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if s.PreferredHolder != nil && *s.PreferredHolder != "" && (s.Strategy == nil || *s.Strategy == "") {
		errs = append(errs, field.Forbidden(path.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}
