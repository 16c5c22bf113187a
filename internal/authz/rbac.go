package authz

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// RBAC is upstream's RBAC authorizer: a request is allowed when a rule of
// a role bound to the user allows it, else it has no opinion.
type RBAC struct {
	resolver *RuleResolver
}

// NewRBAC returns the RBAC authorizer over the objects of l.
func NewRBAC(l Lister) *RBAC {
	return &RBAC{resolver: NewRuleResolver(l)}
}

// Resolver returns the rule resolver the authorizer uses (for rules
// reviews and escalation checks).
func (r *RBAC) Resolver() *RuleResolver { return r.resolver }

// Authorize implements Authorizer. An allowed request's reason names the
// binding, as upstream: `RBAC: allowed by ClusterRoleBinding "x" of
// ClusterRole "y" to User "z"`. A refused request's reason lists the
// errors met resolving roles (a binding to a missing role), if any.
func (r *RBAC) Authorize(ctx context.Context, a *Attributes) (Decision, string, error) {
	if a.User == nil {
		return DecisionNoOpinion, "", nil
	}
	var errs []error
	var reason string
	allowed := false
	r.resolver.VisitRulesFor(ctx, a.User, a.Namespace, func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil && RuleAllows(a, rule) {
			allowed = true
			reason = "RBAC: allowed by " + source.String()
			return false
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	if allowed {
		return DecisionAllow, reason, nil
	}
	if len(errs) > 0 {
		return DecisionNoOpinion, "RBAC: " + utilerrors.NewAggregate(errs).Error(), nil
	}
	return DecisionNoOpinion, "", nil
}

// RulesFor implements RulesResolver.
func (r *RBAC) RulesFor(ctx context.Context, u *User, namespace string) (Rules, error) {
	rules, err := r.resolver.RulesFor(ctx, u, namespace)
	var out Rules
	for _, p := range rules {
		if len(p.Resources) > 0 {
			out.Resource = append(out.Resource, p)
		}
		if len(p.NonResourceURLs) > 0 {
			out.NonResource = append(out.NonResource, p)
		}
	}
	return out, err
}

// RuleResolver finds the rules that apply to a user in a namespace:
// those of cluster roles bound by cluster role bindings, then those of
// roles and cluster roles bound by role bindings of the namespace
// (upstream's DefaultRuleResolver).
type RuleResolver struct {
	lister Lister
}

// NewRuleResolver returns a resolver over l.
func NewRuleResolver(l Lister) *RuleResolver { return &RuleResolver{lister: l} }

// RulesFor returns every rule that applies to u in namespace ("" for
// cluster scope). On error the rules are those that could be resolved:
// rules only add permissions, so they are still valid.
func (r *RuleResolver) RulesFor(ctx context.Context, u *User, namespace string) ([]rbacv1.PolicyRule, error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	r.VisitRulesFor(ctx, u, namespace, func(_ fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil {
			rules = append(rules, *rule)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	return rules, utilerrors.NewAggregate(errs)
}

// VisitRulesFor calls visit with each rule that applies to u in
// namespace and the binding it comes from, and with each error met
// (rule nil). It stops when visit returns false.
func (r *RuleResolver) VisitRulesFor(ctx context.Context, u *User, namespace string, visit func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool) {
	crbs, err := r.lister.ListClusterRoleBindings(ctx)
	if err != nil {
		if !visit(nil, nil, err) {
			return
		}
	} else {
		for _, b := range crbs {
			i, ok := appliesTo(u, b.Subjects, "")
			if !ok {
				continue
			}
			rules, err := r.GetRoleReferenceRules(ctx, b.RoleRef, "")
			if err != nil {
				if !visit(nil, nil, err) {
					return
				}
				continue
			}
			src := &clusterRoleBindingSource{binding: b, subject: &b.Subjects[i]}
			for j := range rules {
				if !visit(src, &rules[j], nil) {
					return
				}
			}
		}
	}
	if namespace == "" {
		return
	}
	rbs, err := r.lister.ListRoleBindings(ctx, namespace)
	if err != nil {
		visit(nil, nil, err)
		return
	}
	for _, b := range rbs {
		i, ok := appliesTo(u, b.Subjects, namespace)
		if !ok {
			continue
		}
		rules, err := r.GetRoleReferenceRules(ctx, b.RoleRef, namespace)
		if err != nil {
			if !visit(nil, nil, err) {
				return
			}
			continue
		}
		src := &roleBindingSource{binding: b, subject: &b.Subjects[i]}
		for j := range rules {
			if !visit(src, &rules[j], nil) {
				return
			}
		}
	}
}

// GetRoleReferenceRules returns the rules of the role a binding refers
// to; bindingNamespace is "" for a cluster role binding.
func (r *RuleResolver) GetRoleReferenceRules(ctx context.Context, ref rbacv1.RoleRef, bindingNamespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		role, err := r.lister.GetRole(ctx, bindingNamespace, ref.Name)
		if err != nil {
			return nil, err
		}
		return role.Rules, nil
	case "ClusterRole":
		role, err := r.lister.GetClusterRole(ctx, ref.Name)
		if err != nil {
			return nil, err
		}
		return role.Rules, nil
	default:
		return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
	}
}

func appliesTo(u *User, subjects []rbacv1.Subject, namespace string) (int, bool) {
	for i := range subjects {
		if appliesToUser(u, &subjects[i], namespace) {
			return i, true
		}
	}
	return 0, false
}

const serviceAccountPrefix = "system:serviceaccount:"

func appliesToUser(u *User, s *rbacv1.Subject, namespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.Name == s.Name
	case rbacv1.GroupKind:
		return u.InGroup(s.Name)
	case rbacv1.ServiceAccountKind:
		ns := namespace
		if s.Namespace != "" {
			ns = s.Namespace
		}
		if ns == "" {
			return false
		}
		return MatchesServiceAccount(ns, s.Name, u.Name)
	default:
		return false
	}
}

// MatchesServiceAccount tells whether username is the service account
// namespace/name ("system:serviceaccount:NS:NAME"), without building it.
func MatchesServiceAccount(namespace, name, username string) bool {
	rest, ok := strings.CutPrefix(username, serviceAccountPrefix)
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, namespace)
	if !ok || len(rest) == 0 || rest[0] != ':' {
		return false
	}
	return rest[1:] == name
}

// appendSubject appends upstream's description of a binding's subject:
// `User "x"`, `Group "x"`, `ServiceAccount "name/namespace"`.
func appendSubject(b []byte, s *rbacv1.Subject, bindingNamespace string) []byte {
	b = append(b, s.Kind...)
	b = append(b, ' ')
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		return strconv.AppendQuote(b, s.Name+"/"+ns)
	}
	return strconv.AppendQuote(b, s.Name)
}

// appendBinding appends `<kind> "<name>" of <Kind> "<role>" to <subject>`
// (upstream's binding describers, built without fmt: an allowed
// request's reason is built on every check).
func appendBinding(b []byte, kind, name string, ref rbacv1.RoleRef, s *rbacv1.Subject, bindingNamespace string) []byte {
	b = append(b, kind...)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, name)
	b = append(b, " of "...)
	b = append(b, ref.Kind...)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, ref.Name)
	b = append(b, " to "...)
	return appendSubject(b, s, bindingNamespace)
}

type clusterRoleBindingSource struct {
	binding *rbacv1.ClusterRoleBinding
	subject *rbacv1.Subject
}

func (d *clusterRoleBindingSource) String() string {
	return string(appendBinding(make([]byte, 0, 128), "ClusterRoleBinding", d.binding.Name, d.binding.RoleRef, d.subject, ""))
}

type roleBindingSource struct {
	binding *rbacv1.RoleBinding
	subject *rbacv1.Subject
}

func (d *roleBindingSource) String() string {
	return string(appendBinding(make([]byte, 0, 128), "RoleBinding", d.binding.Name+"/"+d.binding.Namespace,
		d.binding.RoleRef, d.subject, d.binding.Namespace))
}
