// Package bootstrap holds kube-apiserver v1.37.2's bootstrap RBAC policy
// (the cluster roles, cluster role bindings, roles and role bindings it
// creates at start, with their labels and annotations) and upstream's
// reconciliation of that policy with what is stored: missing objects are
// created, missing rules and subjects added, user additions kept, and
// objects annotated rbac.authorization.kubernetes.io/autoupdate=false
// left alone.
package bootstrap

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations every bootstrap object carries.
const (
	BootstrappingLabel = "kubernetes.io/bootstrapping"
	BootstrappingValue = "rbac-defaults"
	// AutoUpdateAnnotation set to "false" on a stored object stops its
	// reconciliation.
	AutoUpdateAnnotation = rbacv1.AutoUpdateAnnotationKey
)

// Policy is the whole bootstrap policy.
type Policy struct {
	ClusterRoles        []*rbacv1.ClusterRole
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	Roles               []*rbacv1.Role
	RoleBindings        []*rbacv1.RoleBinding
}

// Default returns a fresh copy of upstream's bootstrap policy, as
// kube-apiserver v1.37.2 creates it with its default feature gates.
func Default() *Policy {
	p := &Policy{}
	for _, r := range append(clusterRoleSpecs(), controllerRoleSpecs()...) {
		p.ClusterRoles = append(p.ClusterRoles, r.clusterRole())
	}
	for _, b := range clusterRoleBindingSpecs() {
		p.ClusterRoleBindings = append(p.ClusterRoleBindings, b.clusterRoleBinding())
	}
	for _, r := range roleSpecs() {
		p.Roles = append(p.Roles, r.role())
	}
	for _, b := range roleBindingSpecs() {
		p.RoleBindings = append(p.RoleBindings, b.roleBinding())
	}
	return p
}

// roleSpec is one role of the policy, written compactly.
type roleSpec struct {
	Namespace, Name string
	// AggregateTo is a label key set to "true": the role's rules are
	// aggregated into the role selecting that label.
	AggregateTo string
	// Aggregates are label keys (value "true") of an aggregationRule.
	Aggregates []string
	Rules      []rbacv1.PolicyRule
}

func (r roleSpec) meta() metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace,
		Labels:      map[string]string{BootstrappingLabel: BootstrappingValue},
		Annotations: map[string]string{AutoUpdateAnnotation: "true"}}
	if r.AggregateTo != "" {
		m.Labels[r.AggregateTo] = "true"
	}
	return m
}

func (r roleSpec) clusterRole() *rbacv1.ClusterRole {
	c := &rbacv1.ClusterRole{ObjectMeta: r.meta(), Rules: r.Rules}
	if len(r.Aggregates) > 0 {
		c.AggregationRule = &rbacv1.AggregationRule{}
		for _, k := range r.Aggregates {
			c.AggregationRule.ClusterRoleSelectors = append(c.AggregationRule.ClusterRoleSelectors,
				metav1.LabelSelector{MatchLabels: map[string]string{k: "true"}})
		}
	}
	return c
}

func (r roleSpec) role() *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: r.meta(), Rules: r.Rules}
}

// bindingSpec is one binding of the policy; Role defaults to Name.
type bindingSpec struct {
	Namespace, Name string
	Role            string
	Subjects        []rbacv1.Subject
}

func (b bindingSpec) ref(kind string) rbacv1.RoleRef {
	name := b.Role
	if name == "" {
		name = b.Name
	}
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
}

func (b bindingSpec) clusterRoleBinding() *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: roleSpec{Name: b.Name}.meta(), RoleRef: b.ref("ClusterRole"), Subjects: b.Subjects}
}

func (b bindingSpec) roleBinding() *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: roleSpec{Namespace: b.Namespace, Name: b.Name}.meta(), RoleRef: b.ref("Role"), Subjects: b.Subjects}
}

// Verb sets, sorted as upstream's rule builder sorts them.
var (
	read       = []string{"get", "list", "watch"}
	write      = []string{"create", "delete", "deletecollection", "patch", "update"}
	readWrite  = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	readUpdate = []string{"get", "list", "patch", "update", "watch"}
)

func v(verbs ...string) []string  { return verbs }
func g(groups ...string) []string { return groups }
func s(items ...string) []string  { return items }

// sorted returns a sorted copy: every field of a bootstrap rule is sorted,
// as upstream's PolicyRuleBuilder sorts it.
func sorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// rule allows verbs on resources of groups.
func rule(verbs, groups []string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: sorted(verbs), APIGroups: sorted(groups), Resources: sorted(resources)}
}

// named allows verbs on the named objects of resources of groups.
func named(verbs, groups, resources []string, names ...string) rbacv1.PolicyRule {
	r := rule(verbs, groups, resources...)
	r.ResourceNames = sorted(names)
	return r
}

// urls allows verbs on non-resource paths.
func urls(verbs []string, paths ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: sorted(verbs), NonResourceURLs: sorted(paths)}
}

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func sa(namespace, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
}
