package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// Escalation checks writes of roles and bindings as upstream's RBAC
// storage does: nobody grants permissions they do not hold, unless they
// are a member of system:masters or hold the escalate verb (roles) or the
// bind verb (bindings).
type Escalation struct {
	// Authorizer answers the escalate and bind checks (the server's
	// whole chain, as upstream).
	Authorizer Authorizer
	// Resolver resolves the writer's rules and the bound role's rules.
	Resolver *RuleResolver
}

// fullAuthority are cluster-admin's rules: the aggregationRule needs them.
var fullAuthority = []rbacv1.PolicyRule{
	{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
}

// EscalationAllowed tells whether u is a member of system:masters, who may
// write any role and binding.
func EscalationAllowed(u *User) bool { return u != nil && u.InGroup(SystemPrivilegedGroup) }

// ConfirmNoEscalation returns an error unless the rules u holds in
// namespace ("" for cluster roles and cluster role bindings) cover rules.
// The message is upstream's:
//
//	user "x" (groups=["a" "b"]) is attempting to grant RBAC permissions not currently held:
//	{APIGroups:[""], Resources:["pods"], Verbs:["get"]}
func (e *Escalation) ConfirmNoEscalation(ctx context.Context, u *User, namespace string, rules []rbacv1.PolicyRule) error {
	var resolutionErrs []error
	owner, err := e.Resolver.RulesFor(ctx, u, namespace)
	if err != nil {
		resolutionErrs = append(resolutionErrs, err)
	}
	ok, missing := Covers(owner, rules)
	if ok {
		return nil
	}
	var lines []string
	for _, m := range CompactRules(missing) {
		lines = append(lines, CompactString(m))
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s", u.Name, u.Groups, strings.Join(lines, "\n"))
	if len(resolutionErrs) > 0 {
		msg += fmt.Sprintf("; resolution errors: %v", resolutionErrs)
	}
	return errors.New(msg)
}

// CheckRoleWrite checks a create or update of a Role (resource "roles")
// or ClusterRole ("clusterroles") named name in namespace. old is the
// stored object of an update (nil on create); an update that changes only
// ownerReferences and finalizers is always allowed. It returns upstream's
// 403 or nil.
func (e *Escalation) CheckRoleWrite(ctx context.Context, u *User, resource, namespace, name string, obj, old runtime.Object) error {
	if EscalationAllowed(u) || e.allowed(ctx, &Attributes{User: u, Verb: "escalate", APIGroup: rbacv1.GroupName,
		APIVersion: "*", Resource: resource, Name: name, Namespace: namespace, ResourceRequest: true}) {
		return nil
	}
	if old != nil && OnlyGCFieldsChanged(obj, old) {
		return nil
	}
	var rules []rbacv1.PolicyRule
	aggregation := false
	switch o := obj.(type) {
	case *rbacv1.Role:
		rules = o.Rules
	case *rbacv1.ClusterRole:
		rules = o.Rules
		aggregation = hasAggregationRule(o)
		if or, ok := old.(*rbacv1.ClusterRole); ok && hasAggregationRule(or) {
			aggregation = true
		}
	default:
		return fmt.Errorf("not a role: %T", obj)
	}
	gr := rbacv1.Resource(resource)
	if err := e.ConfirmNoEscalation(ctx, u, namespace, rules); err != nil {
		return apierrors.NewForbidden(gr, name, err)
	}
	if aggregation {
		if err := e.ConfirmNoEscalation(ctx, u, namespace, fullAuthority); err != nil {
			return apierrors.NewForbidden(gr, name, errors.New("must have cluster-admin privileges to use the aggregationRule"))
		}
	}
	return nil
}

func hasAggregationRule(r *rbacv1.ClusterRole) bool {
	return r.AggregationRule != nil && len(r.AggregationRule.ClusterRoleSelectors) > 0
}

// CheckBindingWrite checks a create or update of a RoleBinding (resource
// "rolebindings", namespace set) or ClusterRoleBinding
// ("clusterrolebindings", namespace "") named name that refers to ref.
// old is the stored object of an update (nil on create). The writer must
// be allowed to bind the role, or hold every permission of the role. A
// missing role is kube-apiserver's 404: `rolebindings.rbac.authorization.k8s.io "<role>" not found`.
func (e *Escalation) CheckBindingWrite(ctx context.Context, u *User, resource, namespace, name string, ref rbacv1.RoleRef, obj, old runtime.Object) error {
	if EscalationAllowed(u) {
		return nil
	}
	if old != nil && OnlyGCFieldsChanged(obj, old) {
		return nil
	}
	attrs := &Attributes{User: u, Verb: "bind", Namespace: namespace, APIGroup: ref.APIGroup, APIVersion: "*",
		Name: ref.Name, ResourceRequest: true}
	switch ref.Kind {
	case "ClusterRole":
		attrs.Resource = "clusterroles"
	case "Role":
		attrs.Resource = "roles"
	default:
		attrs = nil
	}
	if attrs != nil && e.allowed(ctx, attrs) {
		return nil
	}
	rules, err := e.Resolver.GetRoleReferenceRules(ctx, ref, namespace)
	if apierrors.IsNotFound(err) {
		// kube-apiserver reads the role through its own storage within
		// the binding's request: the NotFound names the request's
		// resource with the role's name.
		return apierrors.NewNotFound(rbacv1.Resource(resource), ref.Name)
	}
	if err != nil {
		return err
	}
	if err := e.ConfirmNoEscalation(ctx, u, namespace, rules); err != nil {
		return apierrors.NewForbidden(rbacv1.Resource(resource), name, err)
	}
	return nil
}

func (e *Escalation) allowed(ctx context.Context, a *Attributes) bool {
	if e.Authorizer == nil {
		return false
	}
	d, _, _ := e.Authorizer.Authorize(ctx, a)
	return d == DecisionAllow
}

// OnlyGCFieldsChanged tells whether obj differs from old only in
// ownerReferences, finalizers and managedFields (upstream's IsOnlyMutatingGCFields): the
// garbage collector may always make such a change.
func OnlyGCFieldsChanged(obj, old runtime.Object) bool {
	if old == nil || obj == nil {
		return false
	}
	a, b := obj.DeepCopyObject(), old.DeepCopyObject()
	am, err1 := meta.Accessor(a)
	bm, err2 := meta.Accessor(b)
	if err1 != nil || err2 != nil {
		return false
	}
	am.SetOwnerReferences(bm.GetOwnerReferences())
	am.SetFinalizers(bm.GetFinalizers())
	am.SetSelfLink(bm.GetSelfLink())
	am.SetManagedFields(bm.GetManagedFields())
	return equality.Semantic.DeepEqual(a, b)
}

// CheckWrite checks a create (old nil) or update of any of the four RBAC
// kinds by u, as upstream's RBAC storage does; other objects pass. Call
// it once the object's namespace is the request's and its roleRef is
// defaulted, before the object is stored (on an update, with the stored
// object as old, inside the update's retry so old is current).
func (e *Escalation) CheckWrite(ctx context.Context, u *User, obj, old runtime.Object) error {
	switch o := obj.(type) {
	case *rbacv1.Role:
		return e.CheckRoleWrite(ctx, u, "roles", o.Namespace, o.Name, obj, old)
	case *rbacv1.ClusterRole:
		return e.CheckRoleWrite(ctx, u, "clusterroles", "", o.Name, obj, old)
	case *rbacv1.RoleBinding:
		return e.CheckBindingWrite(ctx, u, "rolebindings", o.Namespace, o.Name, o.RoleRef, obj, old)
	case *rbacv1.ClusterRoleBinding:
		return e.CheckBindingWrite(ctx, u, "clusterrolebindings", "", o.Name, o.RoleRef, obj, old)
	}
	return nil
}
