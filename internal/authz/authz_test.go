package authz

import (
	"context"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
)

func rule(verbs, groups, resources []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

func s(v ...string) []string { return v }

// fixture is a small RBAC world: a namespace reader, a pod-log reader,
// a named-configmap editor, a service account bound without namespace,
// a group with non-resource URLs, and a binding to a missing role.
func fixture() *MemoryLister {
	return NewMemoryLister(
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, Rules: []rbacv1.PolicyRule{
			rule(s("get", "list", "watch"), s(""), s("pods", "services")),
		}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "metrics"}, Rules: []rbacv1.PolicyRule{
			{Verbs: s("get"), NonResourceURLs: s("/metrics", "/logs/*")},
		}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "logs", Namespace: "ns"}, Rules: []rbacv1.PolicyRule{
			rule(s("get"), s(""), s("pods/log")),
			{Verbs: s("update"), APIGroups: s(""), Resources: s("configmaps"), ResourceNames: s("cm1")},
			rule(s("get"), s("apps"), s("*/scale")),
		}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-reader", Namespace: "ns"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "reader"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice"}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "logs", Namespace: "ns"},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "logs"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice"},
				{Kind: "ServiceAccount", Name: "builder"}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: "ns"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "missing"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "bob"}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "metrics"},
			Subjects: []rbacv1.Subject{{Kind: "Group", Name: "monitors"}}},
	)
}

func TestRBACDecisions(t *testing.T) {
	a, err := New(Config{Lister: fixture()})
	if err != nil {
		t.Fatal(err)
	}
	alice := &User{Name: "alice", Groups: s("system:authenticated")}
	sa := &User{Name: "system:serviceaccount:ns:builder"}
	admin := &User{Name: "root", Groups: s("system:masters")}
	mon := &User{Name: "m", Groups: s("monitors")}
	res := func(u *User, verb, group, resource, sub, ns, name string) *Attributes {
		return &Attributes{User: u, Verb: verb, APIGroup: group, Resource: resource, Subresource: sub,
			Namespace: ns, Name: name, ResourceRequest: true}
	}
	path := func(u *User, verb, p string) *Attributes { return &Attributes{User: u, Verb: verb, Path: p} }
	for _, c := range []struct {
		a      *Attributes
		want   Decision
		reason string
	}{
		{res(alice, "get", "", "pods", "", "ns", "p"), DecisionAllow, `RBAC: allowed by RoleBinding "alice-reader/ns" of ClusterRole "reader" to User "alice"`},
		{res(alice, "get", "", "pods", "", "other", "p"), DecisionNoOpinion, ""},
		{res(alice, "list", "", "pods", "", "", ""), DecisionNoOpinion, ""},
		{res(alice, "delete", "", "pods", "", "ns", "p"), DecisionNoOpinion, ""},
		{res(alice, "get", "", "pods", "log", "ns", "p"), DecisionAllow, `RBAC: allowed by RoleBinding "logs/ns" of Role "logs" to User "alice"`},
		{res(alice, "get", "", "pods", "exec", "ns", "p"), DecisionNoOpinion, ""},
		{res(alice, "get", "", "pods", "status", "ns", "p"), DecisionNoOpinion, ""},
		{res(alice, "update", "", "configmaps", "", "ns", "cm1"), DecisionAllow, `RBAC: allowed by RoleBinding "logs/ns" of Role "logs" to User "alice"`},
		{res(alice, "update", "", "configmaps", "", "ns", "cm2"), DecisionNoOpinion, ""},
		{res(alice, "update", "", "configmaps", "", "ns", ""), DecisionNoOpinion, ""},
		{res(alice, "get", "apps", "deployments", "scale", "ns", "d"), DecisionAllow, `RBAC: allowed by RoleBinding "logs/ns" of Role "logs" to User "alice"`},
		{res(alice, "get", "apps", "deployments", "", "ns", "d"), DecisionNoOpinion, ""},
		{res(sa, "get", "", "pods", "log", "ns", "p"), DecisionAllow, `RBAC: allowed by RoleBinding "logs/ns" of Role "logs" to ServiceAccount "builder/ns"`},
		{res(sa, "get", "", "pods", "", "ns", "p"), DecisionNoOpinion, ""},
		{res(&User{Name: "system:serviceaccount:other:builder"}, "get", "", "pods", "log", "ns", "p"), DecisionNoOpinion, ""},
		{res(&User{Name: "bob"}, "get", "", "pods", "", "ns", "p"), DecisionNoOpinion, `rbac: RBAC: role.rbac.authorization.k8s.io "missing" not found`},
		{res(admin, "delete", "", "nodes", "", "", "n"), DecisionAllow, ""},
		{path(mon, "get", "/metrics"), DecisionAllow, `RBAC: allowed by ClusterRoleBinding "monitoring" of ClusterRole "metrics" to Group "monitors"`},
		{path(mon, "get", "/logs/kube.log"), DecisionAllow, `RBAC: allowed by ClusterRoleBinding "monitoring" of ClusterRole "metrics" to Group "monitors"`},
		{path(mon, "get", "/logs"), DecisionNoOpinion, ""},
		{path(mon, "post", "/metrics"), DecisionNoOpinion, ""},
		{path(alice, "get", "/metrics"), DecisionNoOpinion, ""},
	} {
		d, reason, _ := a.Authorize(context.Background(), c.a)
		if d != c.want || reason != c.reason {
			t.Errorf("%+v: got %v %q, want %v %q", *c.a, d, reason, c.want, c.reason)
		}
	}
}

func TestModes(t *testing.T) {
	for _, c := range []struct {
		in  []string
		out string
		err string
	}{
		{s("RBAC"), "RBAC", ""},
		{s("AlwaysAllow,RBAC"), "AlwaysAllow RBAC", ""},
		{s("Node,RBAC"), "Node RBAC", ""},
		{s("Webhook"), "", "not supported"},
		{s("Foo"), "", `authorization-mode "Foo" is not a valid mode`},
		{s("RBAC,RBAC"), "", "has mode specified more than once"},
		{nil, "", "at least one authorization-mode must be passed"},
	} {
		m, err := ParseModes(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || strings.Join(m, " ") != c.out {
			t.Errorf("%v: %v %v", c.in, m, err)
		}
	}
	a, _ := New(Config{Modes: s("AlwaysAllow")})
	if d, _, _ := a.Authorize(context.Background(), &Attributes{User: &User{Name: "x"}, Verb: "delete", ResourceRequest: true, Resource: "nodes"}); d != DecisionAllow {
		t.Errorf("AlwaysAllow: %v", d)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("RBAC without a lister accepted")
	}
}

// TestForbiddenMessage compares the 403 with k8s.io/apiserver's own
// (the oracle), for resources, subresources, cluster scope, non-resource
// paths and service accounts.
func TestForbiddenMessage(t *testing.T) {
	for _, a := range []*Attributes{
		{User: &User{Name: "x"}, Verb: "get", Resource: "pods", Namespace: "ns", Name: "p", ResourceRequest: true},
		{User: &User{Name: "x"}, Verb: "list", Resource: "nodes", ResourceRequest: true},
		{User: &User{Name: "x"}, Verb: "list", APIGroup: "apps", Resource: "deployments", ResourceRequest: true},
		{User: &User{Name: "x"}, Verb: "get", Resource: "pods", Subresource: "log", Namespace: "ns", Name: "p", ResourceRequest: true},
		{User: &User{Name: "system:serviceaccount:ns:sa"}, Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "rolebindings", Namespace: "ns", ResourceRequest: true},
		{User: &User{Name: "x<y>&"}, Verb: "get", Path: "/metrics"},
		{User: &User{Name: "x"}, Verb: "get", Path: "/healthz"},
	} {
		for _, reason := range []string{"", "RBAC: role.rbac.authorization.k8s.io \"r\" not found"} {
			got := Forbidden(a, reason)
			want := responsewriters.ForbiddenStatusError(authorizer.AttributesRecord{
				User: &user.DefaultInfo{Name: a.User.Name}, Verb: a.Verb, Namespace: a.Namespace, APIGroup: a.APIGroup,
				Resource: a.Resource, Subresource: a.Subresource, Name: a.Name, ResourceRequest: a.ResourceRequest, Path: a.Path,
			}, reason)
			if got.ErrStatus.Message != want.ErrStatus.Message || got.ErrStatus.Code != want.ErrStatus.Code ||
				got.ErrStatus.Reason != want.ErrStatus.Reason || !reflect.DeepEqual(got.ErrStatus.Details, want.ErrStatus.Details) {
				t.Errorf("got %+v\nwant %+v", got.ErrStatus, want.ErrStatus)
			}
		}
	}
}

func TestRulesReview(t *testing.T) {
	a, _ := New(Config{Lister: fixture()})
	st := RulesReviewStatus(context.Background(), a, &User{Name: "bob", Groups: s("monitors")}, "ns")
	if len(st.NonResourceRules) != 1 || len(st.ResourceRules) != 0 || st.EvaluationError != `role.rbac.authorization.k8s.io "missing" not found` {
		t.Errorf("%+v", st)
	}
	st = RulesReviewStatus(context.Background(), a, &User{Name: "alice"}, "ns")
	if len(st.ResourceRules) != 4 || st.EvaluationError != "" || st.Incomplete {
		t.Errorf("%+v", st)
	}
}

func TestMatchesServiceAccount(t *testing.T) {
	for _, c := range []struct {
		ns, name, user string
		want           bool
	}{
		{"ns", "sa", "system:serviceaccount:ns:sa", true},
		{"ns", "sa", "system:serviceaccount:ns:sa2", false},
		{"ns", "sa", "system:serviceaccount:nsx:sa", false},
		{"ns", "sa", "system:serviceaccount:ns", false},
		{"ns", "sa", "sa", false},
		{"ns", "a:b", "system:serviceaccount:ns:a:b", true},
	} {
		if got := MatchesServiceAccount(c.ns, c.name, c.user); got != c.want {
			t.Errorf("%+v: %v", c, got)
		}
	}
}
