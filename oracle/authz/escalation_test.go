//go:build oracle

package authz

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/etcd"
)

// EscalationTable is internal/authz/testdata/escalation.json: RBAC
// objects created by an administrator on a real kube-apiserver, then
// writes of roles and bindings by limited users, with the server's
// answer (code 201/200 or the error's code and message).
type EscalationTable struct {
	ClusterRoles        []*rbacv1.ClusterRole        `json:"clusterRoles"`
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
	Roles               []*rbacv1.Role               `json:"roles"`
	RoleBindings        []*rbacv1.RoleBinding        `json:"roleBindings"`
	Cases               []EscalationCase             `json:"cases"`
}

// EscalationCase is one write and kube-apiserver's answer.
type EscalationCase struct {
	User    string          `json:"user"`
	Groups  []string        `json:"groups"`
	Update  bool            `json:"update,omitempty"`
	Object  json.RawMessage `json:"object"`
	Code    int32           `json:"code"`
	Message string          `json:"message,omitempty"`
}

func escalationSetup() *EscalationTable {
	pr := func(verbs, groups, resources []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
	}
	s := func(v ...string) []string { return v }
	rbacWriter := pr(s("create", "update", "get"), s("rbac.authorization.k8s.io"), s("roles", "rolebindings", "clusterroles", "clusterrolebindings"))
	u := func(n string) []rbacv1.Subject {
		return []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: n}}
	}
	return &EscalationTable{
		ClusterRoles: []*rbacv1.ClusterRole{
			{ObjectMeta: om("", "rbac-writer"), Rules: []rbacv1.PolicyRule{rbacWriter}},
			{ObjectMeta: om("", "pod-reader"), Rules: []rbacv1.PolicyRule{pr(s("get", "list", "watch"), s(""), s("pods", "pods/log"))}},
			{ObjectMeta: om("", "big"), Rules: []rbacv1.PolicyRule{
				pr(s("get", "list", "delete"), s("", "apps"), s("pods", "deployments", "secrets")),
				{Verbs: s("get"), NonResourceURLs: s("/metrics", "/logs/*")},
				{Verbs: s("update"), APIGroups: s(""), Resources: s("configmaps"), ResourceNames: s("a", "b")},
			}},
			{ObjectMeta: om("", "view-binder"), Rules: []rbacv1.PolicyRule{
				{Verbs: s("bind"), APIGroups: s("rbac.authorization.k8s.io"), Resources: s("clusterroles"), ResourceNames: s("big")}}},
			{ObjectMeta: om("", "escalator"), Rules: []rbacv1.PolicyRule{
				pr(s("escalate"), s("rbac.authorization.k8s.io"), s("roles"))}},
		},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{
			{ObjectMeta: om("", "writers"), RoleRef: ref("ClusterRole", "rbac-writer"),
				Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "writers"}}},
			{ObjectMeta: om("", "carol-binder"), RoleRef: ref("ClusterRole", "view-binder"), Subjects: u("carol")},
		},
		RoleBindings: []*rbacv1.RoleBinding{
			{ObjectMeta: om("ns1", "alice-pods"), RoleRef: ref("ClusterRole", "pod-reader"), Subjects: u("alice")},
			{ObjectMeta: om("ns1", "bob-escalate"), RoleRef: ref("ClusterRole", "escalator"), Subjects: u("bob")},
		},
	}
}

func escalationCases() []EscalationCase {
	writers := []string{"writers", "system:authenticated"}
	obj := func(o any) json.RawMessage {
		b, _ := json.Marshal(o)
		return b
	}
	s := func(v ...string) []string { return v }
	role := func(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
		return &rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"}, ObjectMeta: om(ns, name), Rules: rules}
	}
	crole := func(name string, agg *rbacv1.AggregationRule, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"}, ObjectMeta: om("", name), Rules: rules, AggregationRule: agg}
	}
	rb := func(ns, name string, r rbacv1.RoleRef) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"}, ObjectMeta: om(ns, name), RoleRef: r,
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "zed"}}}
	}
	crb := func(name string, r rbacv1.RoleRef) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"}, ObjectMeta: om("", name), RoleRef: r,
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "zed"}}}
	}
	get := rbacv1.PolicyRule{Verbs: s("get"), APIGroups: s(""), Resources: s("pods")}
	more := rbacv1.PolicyRule{Verbs: s("get", "delete", "create"), APIGroups: s("", "apps"), Resources: s("pods", "secrets", "deployments/scale")}
	urls := rbacv1.PolicyRule{Verbs: s("get", "post"), NonResourceURLs: s("/metrics", "/debug/*")}
	named := rbacv1.PolicyRule{Verbs: s("update", "get"), APIGroups: s(""), Resources: s("configmaps"), ResourceNames: s("a", "c")}
	agg := &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"x": "y"}}}}
	return []EscalationCase{
		{User: "alice", Groups: writers, Object: obj(role("ns1", "held", get))},
		{User: "alice", Groups: writers, Object: obj(role("ns1", "more", more))},
		{User: "alice", Groups: writers, Object: obj(role("ns2", "elsewhere", get))},
		{User: "alice", Groups: writers, Object: obj(role("ns1", "named", named))},
		{User: "alice", Groups: writers, Update: true, Object: obj(role("ns1", "held", get, more))},
		{User: "alice", Groups: writers, Object: obj(crole("c-urls", nil, urls))},
		{User: "alice", Groups: writers, Object: obj(crole("c-agg", agg))},
		{User: "alice", Groups: writers, Object: obj(crole("c-get", nil, get))},
		{User: "alice", Groups: writers, Object: obj(rb("ns1", "b-reader", ref("ClusterRole", "pod-reader")))},
		{User: "alice", Groups: writers, Object: obj(rb("ns1", "b-big", ref("ClusterRole", "big")))},
		{User: "alice", Groups: writers, Object: obj(rb("ns1", "b-missing", ref("Role", "nope")))},
		{User: "alice", Groups: writers, Object: obj(rb("ns1", "b-missing-c", ref("ClusterRole", "nope")))},
		{User: "alice", Groups: writers, Object: obj(crb("cb-reader", ref("ClusterRole", "pod-reader")))},
		{User: "carol", Groups: writers, Object: obj(rb("ns1", "b-bound", ref("ClusterRole", "big")))},
		{User: "carol", Groups: writers, Object: obj(crb("cb-bound", ref("ClusterRole", "big")))},
		{User: "carol", Groups: writers, Object: obj(crb("cb-other", ref("ClusterRole", "pod-reader")))},
		{User: "bob", Groups: writers, Object: obj(role("ns1", "bob-more", more))},
		{User: "bob", Groups: writers, Object: obj(crole("bob-c", nil, more))},
		{User: "root", Groups: []string{"system:masters"}, Object: obj(crole("root-c", agg, more))},
	}
}

// TestEscalationTable runs the cases on a real kube-apiserver.
func TestEscalationTable(t *testing.T) {
	bin := os.Getenv("ORACLE_KUBE_APISERVER")
	if bin == "" {
		bin, _ = filepath.Abs("../../bin/oracle/kube-apiserver")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no kube-apiserver at %s: %v", bin, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "etcd"), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tab := escalationSetup()
	cases := escalationCases()
	var users []tokenUser
	for _, c := range cases {
		users = append(users, tokenUser{c.User, c.Groups})
	}
	cfg := startOracleUsers(t, ctx, bin, dir, e.Endpoint, users)
	admin := kubernetes.NewForConfigOrDie(cfg)
	for _, ns := range []string{"ns1", "ns2"} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, nsObj(ns), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range tab.ClusterRoles {
		if _, err := admin.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range tab.ClusterRoleBindings {
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range tab.RoleBindings {
		if _, err := admin.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	client := func(name string) kubernetes.Interface {
		c := rest.CopyConfig(cfg)
		c.BearerToken = "token-" + name
		return kubernetes.NewForConfigOrDie(c)
	}
	// The server's authorizer reads an informer: wait until the last
	// binding is seen.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := client("bob").AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: "ns1", Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "roles"}}}, metav1.CreateOptions{})
		if err == nil && r.Status.Allowed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bindings never effective: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := range cases {
		c := &cases[i]
		cs := client(c.User)
		var kind struct{ Kind string }
		_ = json.Unmarshal(c.Object, &kind)
		var err error
		switch kind.Kind {
		case "Role":
			var o rbacv1.Role
			_ = json.Unmarshal(c.Object, &o)
			if c.Update {
				cur, gerr := admin.RbacV1().Roles(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
				if gerr != nil {
					t.Fatal(gerr)
				}
				o.ResourceVersion = cur.ResourceVersion
				_, err = cs.RbacV1().Roles(o.Namespace).Update(ctx, &o, metav1.UpdateOptions{})
			} else {
				_, err = cs.RbacV1().Roles(o.Namespace).Create(ctx, &o, metav1.CreateOptions{})
			}
		case "ClusterRole":
			var o rbacv1.ClusterRole
			_ = json.Unmarshal(c.Object, &o)
			_, err = cs.RbacV1().ClusterRoles().Create(ctx, &o, metav1.CreateOptions{})
		case "RoleBinding":
			var o rbacv1.RoleBinding
			_ = json.Unmarshal(c.Object, &o)
			_, err = cs.RbacV1().RoleBindings(o.Namespace).Create(ctx, &o, metav1.CreateOptions{})
		case "ClusterRoleBinding":
			var o rbacv1.ClusterRoleBinding
			_ = json.Unmarshal(c.Object, &o)
			_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &o, metav1.CreateOptions{})
		}
		c.Code = 201
		if c.Update {
			c.Code = 200
		}
		if err != nil {
			st, ok := err.(apierrors.APIStatus)
			if !ok {
				t.Fatalf("case %d: %v", i, err)
			}
			c.Code, c.Message = st.Status().Code, st.Status().Message
		}
		t.Logf("%s %s: %d %s", c.User, kind.Kind, c.Code, c.Message)
	}
	tab.Cases = cases
	out, err := json.MarshalIndent(tab, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	writeOrCompare(t, "../../internal/authz/testdata/escalation.json", out)
}

func nsObj(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}
