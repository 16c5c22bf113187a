package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// Rules are the rules a user has in a namespace, as a rules review shows
// them: rules with resources, and rules with non-resource URLs (a rule
// with both is in both lists).
type Rules struct {
	Resource    []rbacv1.PolicyRule
	NonResource []rbacv1.PolicyRule
	// Incomplete is true when an authorizer cannot list its rules.
	Incomplete bool
}

// RulesResolver lists what a user may do in a namespace (upstream's
// authorizer.RuleResolver), for SelfSubjectRulesReview.
type RulesResolver interface {
	RulesFor(ctx context.Context, u *User, namespace string) (Rules, error)
}

// named is one authorizer of a union.
type named struct {
	name string
	a    Authorizer
}

// Union asks its authorizers in order; the first Allow or Deny decides
// (upstream's union authorizer).
type Union struct {
	chain     []named
	resolvers []RulesResolver
}

// Authorize implements Authorizer. With no decision, the reasons of
// every authorizer are joined, each prefixed by its name.
func (u *Union) Authorize(ctx context.Context, a *Attributes) (Decision, string, error) {
	var errs []error
	var reasons []string
	for _, n := range u.chain {
		d, reason, err := n.a.Authorize(ctx, a)
		if err != nil {
			errs = append(errs, err)
		}
		if reason != "" {
			reasons = append(reasons, n.name+": "+reason)
		}
		if d == DecisionAllow || d == DecisionDeny {
			return d, reason, err
		}
	}
	return DecisionNoOpinion, strings.Join(reasons, "\n"), utilerrors.NewAggregate(errs)
}

// RulesFor implements RulesResolver: the rules of every mode's resolver
// (the system:masters bypass has none, as upstream).
func (u *Union) RulesFor(ctx context.Context, user *User, namespace string) (Rules, error) {
	var out Rules
	var errs []error
	for _, r := range u.resolvers {
		rules, err := r.RulesFor(ctx, user, namespace)
		if err != nil {
			errs = append(errs, err)
		}
		out.Resource = append(out.Resource, rules.Resource...)
		out.NonResource = append(out.NonResource, rules.NonResource...)
		out.Incomplete = out.Incomplete || rules.Incomplete
	}
	return out, utilerrors.NewAggregate(errs)
}

// privilegedGroup allows every request of a member of system:masters.
type privilegedGroup struct{}

func (privilegedGroup) Authorize(_ context.Context, a *Attributes) (Decision, string, error) {
	if a.User == nil {
		return DecisionNoOpinion, "Error", errors.New("no user on request.")
	}
	if a.User.InGroup(SystemPrivilegedGroup) {
		return DecisionAllow, "", nil
	}
	return DecisionNoOpinion, "", nil
}

// AlwaysAllow allows every request (--authorization-mode=AlwaysAllow).
type AlwaysAllow struct{}

// Authorize implements Authorizer.
func (AlwaysAllow) Authorize(context.Context, *Attributes) (Decision, string, error) {
	return DecisionAllow, "", nil
}

// RulesFor implements RulesResolver: everything.
func (AlwaysAllow) RulesFor(context.Context, *User, string) (Rules, error) {
	return Rules{
		Resource:    []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}},
		NonResource: []rbacv1.PolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
	}, nil
}

// AlwaysDeny refuses every request (--authorization-mode=AlwaysDeny).
type AlwaysDeny struct{}

// Authorize implements Authorizer.
func (AlwaysDeny) Authorize(context.Context, *Attributes) (Decision, string, error) {
	return DecisionNoOpinion, "Everything is forbidden.", nil
}

// RulesFor implements RulesResolver: nothing.
func (AlwaysDeny) RulesFor(context.Context, *User, string) (Rules, error) {
	return Rules{Resource: []rbacv1.PolicyRule{}, NonResource: []rbacv1.PolicyRule{}}, nil
}

// noOpinion stands for the Node mode, which regis does not implement.
type noOpinion struct{}

func (noOpinion) Authorize(context.Context, *Attributes) (Decision, string, error) {
	return DecisionNoOpinion, "", nil
}

func (noOpinion) RulesFor(context.Context, *User, string) (Rules, error) { return Rules{}, nil }

// Config selects the authorizers.
type Config struct {
	// Modes are --authorization-mode's values (ParseModes); empty means
	// DefaultModes.
	Modes []string
	// Lister reads RBAC objects; required with RBAC.
	Lister Lister
}

// New returns upstream's chain: members of system:masters are allowed
// everything, then each mode in order.
func New(c Config) (*Union, error) {
	modes := c.Modes
	if len(modes) == 0 {
		modes = DefaultModes
	}
	modes, err := ParseModes(modes)
	if err != nil {
		return nil, err
	}
	u := &Union{chain: []named{{"kubernetes.io/system-privileged-group", privilegedGroup{}}}}
	for _, m := range modes {
		var a Authorizer
		var r RulesResolver
		switch m {
		case ModeRBAC:
			if c.Lister == nil {
				return nil, fmt.Errorf("authorization-mode RBAC needs a lister of RBAC objects")
			}
			rbac := NewRBAC(c.Lister)
			a, r = rbac, rbac
		case ModeAlwaysAllow:
			a, r = AlwaysAllow{}, AlwaysAllow{}
		case ModeAlwaysDeny:
			a, r = AlwaysDeny{}, AlwaysDeny{}
		case ModeNode:
			a, r = noOpinion{}, noOpinion{}
		}
		// Upstream names each authorizer by its lower-cased mode.
		u.chain = append(u.chain, named{strings.ToLower(m), a})
		u.resolvers = append(u.resolvers, r)
	}
	return u, nil
}

// RulesReviewStatus is the status of a SelfSubjectRulesReview of u in
// namespace, as upstream's REST builds it.
func RulesReviewStatus(ctx context.Context, r RulesResolver, u *User, namespace string) authorizationv1.SubjectRulesReviewStatus {
	rules, err := r.RulesFor(ctx, u, namespace)
	st := authorizationv1.SubjectRulesReviewStatus{
		ResourceRules:    make([]authorizationv1.ResourceRule, len(rules.Resource)),
		NonResourceRules: make([]authorizationv1.NonResourceRule, len(rules.NonResource)),
		Incomplete:       rules.Incomplete,
	}
	for i, p := range rules.Resource {
		st.ResourceRules[i] = authorizationv1.ResourceRule{Verbs: p.Verbs, APIGroups: p.APIGroups, Resources: p.Resources, ResourceNames: p.ResourceNames}
	}
	for i, p := range rules.NonResource {
		st.NonResourceRules[i] = authorizationv1.NonResourceRule{Verbs: p.Verbs, NonResourceURLs: p.NonResourceURLs}
	}
	if err != nil {
		st.EvaluationError = err.Error()
	}
	return st
}
