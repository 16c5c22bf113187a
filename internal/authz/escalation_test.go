package authz

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEscalation(t *testing.T) {
	l := fixture()
	l.Set(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "role-writer"}, Rules: []rbacv1.PolicyRule{
		rule(s("bind"), s("rbac.authorization.k8s.io"), s("clusterroles")),
	}})
	l.Set(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "carol"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "role-writer"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "carol"}}})
	a, _ := New(Config{Lister: l})
	e := &Escalation{Authorizer: a, Resolver: NewRuleResolver(l)}
	ctx := context.Background()
	alice := &User{Name: "alice", Groups: s("system:authenticated")}

	// alice holds get/list/watch pods in ns: a role with less is fine.
	ok := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"}, Rules: []rbacv1.PolicyRule{rule(s("get"), s(""), s("pods"))}}
	if err := e.CheckRoleWrite(ctx, alice, "roles", "ns", "r", ok, nil); err != nil {
		t.Errorf("covered role refused: %v", err)
	}
	more := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"}, Rules: []rbacv1.PolicyRule{
		rule(s("get", "delete", "create"), s(""), s("pods", "secrets")),
	}}
	err := e.CheckRoleWrite(ctx, alice, "roles", "ns", "r", more, nil)
	want := `roles.rbac.authorization.k8s.io "r" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["pods"], Verbs:["delete" "create"]}
{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete" "create"]}`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	// The same role in another namespace: nothing is held there.
	if err := e.CheckRoleWrite(ctx, alice, "roles", "other", "r", ok, nil); !apierrors.IsForbidden(err) {
		t.Errorf("role in another namespace: %v", err)
	}
	// A GC-only change of an existing role is allowed.
	changed := more.DeepCopy()
	changed.Finalizers = []string{"x"}
	if err := e.CheckRoleWrite(ctx, alice, "roles", "ns", "r", changed, more); err != nil {
		t.Errorf("GC-only update refused: %v", err)
	}
	// system:masters writes anything.
	if err := e.CheckRoleWrite(ctx, &User{Name: "x", Groups: s("system:masters")}, "roles", "ns", "r", more, nil); err != nil {
		t.Error(err)
	}
	// An aggregationRule needs everything.
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg"}, AggregationRule: &rbacv1.AggregationRule{
		ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"a": "b"}}}}}
	err = e.CheckRoleWrite(ctx, alice, "clusterroles", "", "agg", agg, nil)
	if err == nil || err.Error() != `clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule` {
		t.Errorf("aggregation: %v", err)
	}

	// Bindings: alice may bind "reader" in ns (she holds its rules
	// there), not "role-writer"; carol may bind any cluster role.
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}}
	if err := e.CheckBindingWrite(ctx, alice, "rolebindings", "ns", "b", ref("ClusterRole", "reader"), rb, nil); err != nil {
		t.Errorf("binding a held role: %v", err)
	}
	err = e.CheckBindingWrite(ctx, alice, "rolebindings", "ns", "b", ref("ClusterRole", "role-writer"), rb, nil)
	want = `rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:["rbac.authorization.k8s.io"], Resources:["clusterroles"], Verbs:["bind"]}`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	carol := &User{Name: "carol"}
	if err := e.CheckBindingWrite(ctx, carol, "clusterrolebindings", "", "b", ref("ClusterRole", "reader"), rb, nil); err != nil {
		t.Errorf("bind verb ignored: %v", err)
	}
	// CheckWrite dispatches on the kind.
	rbw := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}, RoleRef: ref("ClusterRole", "role-writer")}
	if err := e.CheckWrite(ctx, alice, rbw, nil); !apierrors.IsForbidden(err) {
		t.Errorf("CheckWrite of a binding: %v", err)
	}
	if err := e.CheckWrite(ctx, alice, more, nil); !apierrors.IsForbidden(err) {
		t.Errorf("CheckWrite of a role: %v", err)
	}
	if err := e.CheckWrite(ctx, alice, &metav1.Status{}, nil); err != nil {
		t.Errorf("CheckWrite of another kind: %v", err)
	}
	err = e.CheckBindingWrite(ctx, alice, "rolebindings", "ns", "b", ref("Role", "nope"), rb, nil)
	if !apierrors.IsNotFound(err) || err.Error() != `rolebindings.rbac.authorization.k8s.io "nope" not found` {
		t.Errorf("missing role: %v", err)
	}
}

func TestCoversAndCompact(t *testing.T) {
	owner := []rbacv1.PolicyRule{
		rule(s("*"), s(""), s("pods", "*/status")),
		{Verbs: s("get"), APIGroups: s("apps"), Resources: s("deployments"), ResourceNames: s("a", "b")},
		{Verbs: s("get"), NonResourceURLs: s("/logs/*")},
	}
	for _, c := range []struct {
		servant rbacv1.PolicyRule
		want    bool
	}{
		{rule(s("get", "delete"), s(""), s("pods")), true},
		{rule(s("get"), s(""), s("nodes/status")), true},
		{rule(s("get"), s(""), s("nodes")), false},
		{rule(s("get"), s("apps"), s("deployments")), false},
		{rbacv1.PolicyRule{Verbs: s("get"), APIGroups: s("apps"), Resources: s("deployments"), ResourceNames: s("a")}, true},
		{rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("/logs/x", "/logs/*")}, true},
		{rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("/logs")}, false},
	} {
		if got, _ := Covers(owner, []rbacv1.PolicyRule{c.servant}); got != c.want {
			t.Errorf("%v: %v", c.servant, got)
		}
	}
	if got := CompactString(rbacv1.PolicyRule{Verbs: s("get"), NonResourceURLs: s("/x")}); got != `{NonResourceURLs:["/x"], Verbs:["get"]}` {
		t.Error(got)
	}
}
