package bootstrap

import (
	"maps"
	"reflect"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/authz"
)

// Operation is what reconciliation does to one object.
type Operation string

// Operations, with upstream's names.
const (
	OpCreate   Operation = "create"
	OpUpdate   Operation = "update"
	OpRecreate Operation = "recreate" // a binding whose roleRef changed
	OpNone     Operation = "none"
)

// RoleResult is the reconciliation of one role or cluster role.
type RoleResult struct {
	// Rules, Labels, Annotations and AggregationRule are what the stored
	// object should hold (the existing ones plus what is missing).
	Rules           []rbacv1.PolicyRule
	Labels          map[string]string
	Annotations     map[string]string
	AggregationRule *rbacv1.AggregationRule
	// MissingRules are the atomic rules of the policy the stored role
	// lacked.
	MissingRules []rbacv1.PolicyRule
	Operation    Operation
	// Protected is true when the stored object has autoupdate=false: it
	// is left as it is (Operation tells what would have been done).
	Protected bool
}

// ReconcileClusterRole computes upstream's reconciliation of a stored
// cluster role (existing; nil when absent) with the policy's (expected):
// labels and annotations missing are added (stored values win), missing
// rules are appended as atomic rules (user additions kept), missing
// aggregation selectors appended, and an aggregationRule the policy no
// longer has is removed.
func ReconcileClusterRole(existing, expected *rbacv1.ClusterRole) RoleResult {
	if existing == nil {
		return reconcileRole(nil, clusterRole{expected})
	}
	return reconcileRole(clusterRole{existing}, clusterRole{expected})
}

// ReconcileRole is ReconcileClusterRole for a namespaced role.
func ReconcileRole(existing, expected *rbacv1.Role) RoleResult {
	if existing == nil {
		return reconcileRole(nil, role{expected})
	}
	return reconcileRole(role{existing}, role{expected})
}

func reconcileRole(existing, expected roleLike) RoleResult {
	if existing == nil {
		return RoleResult{Rules: expected.rules(), Labels: expected.meta().Labels, Annotations: expected.meta().Annotations,
			AggregationRule: expected.aggregation(), MissingRules: expected.rules(), Operation: OpCreate}
	}
	em := existing.meta()
	r := RoleResult{Operation: OpNone, Protected: em.Annotations[AutoUpdateAnnotation] == "false",
		Rules: existing.rules(), AggregationRule: existing.aggregation()}
	r.Annotations = merge(expected.meta().Annotations, em.Annotations)
	if !reflect.DeepEqual(r.Annotations, em.Annotations) {
		r.Operation = OpUpdate
	}
	r.Labels = merge(expected.meta().Labels, em.Labels)
	if !reflect.DeepEqual(r.Labels, em.Labels) {
		r.Operation = OpUpdate
	}
	_, r.MissingRules = authz.Covers(existing.rules(), expected.rules())
	if len(r.MissingRules) > 0 {
		r.Rules = append(append([]rbacv1.PolicyRule(nil), r.Rules...), r.MissingRules...)
		r.Operation = OpUpdate
	}
	missingSelectors := uncoveredSelectors(existing.aggregation(), expected.aggregation())
	switch {
	case expected.aggregation() == nil && existing.aggregation() != nil:
		r.AggregationRule = nil
		r.Operation = OpUpdate
	case len(missingSelectors) > 0:
		ag := &rbacv1.AggregationRule{}
		if r.AggregationRule != nil {
			ag = r.AggregationRule.DeepCopy()
		}
		ag.ClusterRoleSelectors = append(ag.ClusterRoleSelectors, missingSelectors...)
		r.AggregationRule = ag
		r.Operation = OpUpdate
	}
	return r
}

// merge returns base's entries overridden by over's; nil when both are nil.
func merge(base, over map[string]string) map[string]string {
	if base == nil && over == nil {
		return nil
	}
	out := map[string]string{}
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

// uncoveredSelectors are the selectors of servant that owner lacks.
func uncoveredSelectors(owner, servant *rbacv1.AggregationRule) []metav1.LabelSelector {
	if servant == nil {
		return nil
	}
	if owner == nil {
		return servant.ClusterRoleSelectors
	}
	var out []metav1.LabelSelector
	for _, s := range servant.ClusterRoleSelectors {
		covered := false
		for _, o := range owner.ClusterRoleSelectors {
			if equality.Semantic.DeepEqual(o, s) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, s)
		}
	}
	return out
}

// BindingResult is the reconciliation of one binding.
type BindingResult struct {
	Subjects    []rbacv1.Subject
	Labels      map[string]string
	Annotations map[string]string
	// MissingSubjects are the policy's subjects the stored binding lacked.
	MissingSubjects []rbacv1.Subject
	Operation       Operation
	Protected       bool
}

// ReconcileClusterRoleBinding computes upstream's reconciliation of a
// stored binding (existing; nil when absent) with the policy's: a changed
// roleRef (which cannot be updated) recreates the binding; else missing
// labels, annotations and subjects are added and the stored ones kept.
func ReconcileClusterRoleBinding(existing, expected *rbacv1.ClusterRoleBinding) BindingResult {
	if existing == nil {
		return reconcileBinding(nil, clusterRoleBinding{expected})
	}
	return reconcileBinding(clusterRoleBinding{existing}, clusterRoleBinding{expected})
}

// ReconcileRoleBinding is ReconcileClusterRoleBinding for a namespaced
// binding.
func ReconcileRoleBinding(existing, expected *rbacv1.RoleBinding) BindingResult {
	if existing == nil {
		return reconcileBinding(nil, roleBinding{expected})
	}
	return reconcileBinding(roleBinding{existing}, roleBinding{expected})
}

func reconcileBinding(existing, expected bindingLike) BindingResult {
	em, xm := expected.meta(), metav1.ObjectMeta{}
	if existing != nil {
		xm = existing.meta()
	}
	switch {
	case existing == nil:
		return BindingResult{Subjects: expected.subjects(), Labels: em.Labels, Annotations: em.Annotations,
			MissingSubjects: expected.subjects(), Operation: OpCreate}
	case existing.roleRef() != expected.roleRef():
		return BindingResult{Subjects: expected.subjects(), Labels: em.Labels, Annotations: em.Annotations,
			Operation: OpRecreate, Protected: xm.Annotations[AutoUpdateAnnotation] == "false"}
	}
	r := BindingResult{Operation: OpNone, Protected: xm.Annotations[AutoUpdateAnnotation] == "false", Subjects: existing.subjects()}
	r.Annotations = merge(em.Annotations, xm.Annotations)
	if !reflect.DeepEqual(r.Annotations, xm.Annotations) {
		r.Operation = OpUpdate
	}
	r.Labels = merge(em.Labels, xm.Labels)
	if !reflect.DeepEqual(r.Labels, xm.Labels) {
		r.Operation = OpUpdate
	}
	for _, s := range expected.subjects() {
		if !containsSubject(existing.subjects(), s) && !containsSubject(r.MissingSubjects, s) {
			r.MissingSubjects = append(r.MissingSubjects, s)
		}
	}
	if len(r.MissingSubjects) > 0 {
		r.Subjects = append(append([]rbacv1.Subject(nil), r.Subjects...), r.MissingSubjects...)
		r.Operation = OpUpdate
	}
	return r
}

func containsSubject(list []rbacv1.Subject, s rbacv1.Subject) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// roleLike is a Role or a ClusterRole.
type roleLike interface {
	meta() metav1.ObjectMeta
	rules() []rbacv1.PolicyRule
	aggregation() *rbacv1.AggregationRule
}

// bindingLike is a RoleBinding or a ClusterRoleBinding.
type bindingLike interface {
	meta() metav1.ObjectMeta
	roleRef() rbacv1.RoleRef
	subjects() []rbacv1.Subject
}

type clusterRole struct{ *rbacv1.ClusterRole }

func (c clusterRole) meta() metav1.ObjectMeta              { return c.ObjectMeta }
func (c clusterRole) rules() []rbacv1.PolicyRule           { return c.Rules }
func (c clusterRole) aggregation() *rbacv1.AggregationRule { return c.AggregationRule }

type role struct{ *rbacv1.Role }

func (r role) meta() metav1.ObjectMeta            { return r.ObjectMeta }
func (r role) rules() []rbacv1.PolicyRule         { return r.Rules }
func (role) aggregation() *rbacv1.AggregationRule { return nil }

type clusterRoleBinding struct{ *rbacv1.ClusterRoleBinding }

func (b clusterRoleBinding) meta() metav1.ObjectMeta    { return b.ObjectMeta }
func (b clusterRoleBinding) roleRef() rbacv1.RoleRef    { return b.RoleRef }
func (b clusterRoleBinding) subjects() []rbacv1.Subject { return b.Subjects }

type roleBinding struct{ *rbacv1.RoleBinding }

func (b roleBinding) meta() metav1.ObjectMeta    { return b.ObjectMeta }
func (b roleBinding) roleRef() rbacv1.RoleRef    { return b.RoleRef }
func (b roleBinding) subjects() []rbacv1.Subject { return b.Subjects }
