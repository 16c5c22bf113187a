package apiserver

import (
	"context"
	"net/http/httptest"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/authz"
)

// TestAuthorizeRequests checks the attributes read from requests and the
// 403 of a refused one, over a real RBAC authorizer.
func TestAuthorizeRequests(t *testing.T) {
	l := authz.NewMemoryLister(
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "r"}, Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{"", "apps"}, Resources: []string{"pods", "pods/log", "deployments/scale"}},
		}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"},
			Subjects: []rbacv1.Subject{{Kind: "Group", Name: "devs"}}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "health"}, Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/livez/*"}}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "health"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "health"},
			Subjects: []rbacv1.Subject{{Kind: "Group", Name: AllAuthenticated}}},
	)
	a, err := authz.New(authz.Config{Lister: l})
	if err != nil {
		t.Fatal(err)
	}
	tokens := NewTokenUsers(map[string]*authz.User{"t1": {Name: "dev", Groups: []string{"devs"}}, "t2": {Name: "other"}})
	for _, c := range []struct {
		method, target, token string
		msg                   string // "" when allowed
	}{
		{"GET", "/api/v1/namespaces/ns/pods", "t1", ""},
		{"GET", "/api/v1/namespaces/ns/pods?watch=1", "t1", ""},
		{"GET", "/api/v1/namespaces/ns/pods/p/log", "t1", ""},
		{"GET", "/apis/apps/v1/namespaces/ns/deployments/d/scale", "t1", ""},
		{"GET", "/apis/apps/v1/namespaces/ns/deployments/d", "t1", `deployments.apps "d" is forbidden: User "dev" cannot get resource "deployments" in API group "apps" in the namespace "ns"`},
		{"DELETE", "/api/v1/namespaces/ns/pods/p", "t1", `pods "p" is forbidden: User "dev" cannot delete resource "pods" in API group "" in the namespace "ns"`},
		{"GET", "/api/v1/pods", "t1", `pods is forbidden: User "dev" cannot list resource "pods" in API group "" at the cluster scope`},
		{"POST", "/api/v1/namespaces/ns/pods/p/exec", "t1", `pods "p" is forbidden: User "dev" cannot create resource "pods/exec" in API group "" in the namespace "ns"`},
		{"GET", "/api/v1/namespaces/ns/pods", "t2", `pods is forbidden: User "other" cannot list resource "pods" in API group "" in the namespace "ns"`},
		{"GET", "/healthz", "t2", ""},
		{"GET", "/livez/ping", "t2", ""},
		{"POST", "/healthz", "t2", `forbidden: User "other" cannot post path "/healthz"`},
		{"GET", "/metrics", "t2", `forbidden: User "other" cannot get path "/metrics"`},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		r.Header.Set("Authorization", "Bearer "+c.token)
		u, ok := authenticateUser(Authenticators{ClientCertAuthenticator{}, tokens}, r)
		if !ok || !u.InGroup(AllAuthenticated) {
			t.Fatalf("%s: not authenticated: %+v", c.target, u)
		}
		err := authorize(context.Background(), a, r, classify(r), u)
		switch {
		case c.msg == "" && err != nil:
			t.Errorf("%s %s: %v", c.method, c.target, err)
		case c.msg != "" && (!apierrors.IsForbidden(err) || err.Error() != c.msg):
			t.Errorf("%s %s: got %v\nwant %s", c.method, c.target, err, c.msg)
		}
	}
	if u, ok := authenticateUser(nil, httptest.NewRequest("GET", "/", nil)); !ok || u.Name != AnonymousUser {
		t.Errorf("anonymous: %+v", u)
	}
}
