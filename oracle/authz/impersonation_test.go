//go:build oracle

package authz

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/union"
	"k8s.io/apiserver/pkg/endpoints/filters/impersonation"
	"k8s.io/apiserver/pkg/endpoints/request"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
)

// ImpersonationTable is internal/authz/testdata/impersonation.json:
// requests with impersonation headers run through upstream's filter
// (v1.37: constrained impersonation, on by default) over upstream's RBAC
// authorizer and a few cluster roles, with its answers.
type ImpersonationTable struct {
	ClusterRoles        []*rbacv1.ClusterRole        `json:"clusterRoles"`
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
	Cases               []ImpersonationCase          `json:"cases"`
}

// ImpersonationCase is one request and upstream's answer: the status of a
// refusal, or the user impersonated.
type ImpersonationCase struct {
	Requestor string              `json:"requestor"`
	Path      string              `json:"path"`
	Headers   map[string][]string `json:"headers"`
	Code      int                 `json:"code"`
	Status    *metav1.Status      `json:"status,omitempty"`
	User      *ImpersonatedUser   `json:"user,omitempty"`
}

// ImpersonatedUser is the user upstream's filter puts in the context.
type ImpersonatedUser struct {
	Name   string              `json:"name"`
	UID    string              `json:"uid,omitempty"`
	Groups []string            `json:"groups"`
	Extra  map[string][]string `json:"extra,omitempty"`
}

func TestImpersonationTable(t *testing.T) {
	rule := func(verbs []string, group string, resources []string, names ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: resources, ResourceNames: names}
	}
	bind := func(name, subject string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: subject}}}
	}
	tab := ImpersonationTable{
		ClusterRoles: []*rbacv1.ClusterRole{
			{ObjectMeta: metav1.ObjectMeta{Name: "legacy"}, Rules: []rbacv1.PolicyRule{
				rule([]string{"impersonate"}, "", []string{"users"}, "carol"),
				rule([]string{"impersonate"}, "", []string{"groups"}, "ops"),
				rule([]string{"impersonate"}, "", []string{"serviceaccounts"}),
				rule([]string{"impersonate"}, "authentication.k8s.io", []string{"uids", "userextras/scopes"}),
			}},
			{ObjectMeta: metav1.ObjectMeta{Name: "constrained"}, Rules: []rbacv1.PolicyRule{
				rule([]string{"impersonate-on:user-info:list", "impersonate-on:serviceaccount:list", "impersonate-on:arbitrary-node:list"}, "", []string{"pods"}),
				rule([]string{"impersonate:user-info"}, "authentication.k8s.io", []string{"users"}, "dave"),
				rule([]string{"impersonate:user-info"}, "authentication.k8s.io", []string{"groups"}, "devs"),
				rule([]string{"impersonate:serviceaccount"}, "", []string{"serviceaccounts"}, "builder"),
				rule([]string{"impersonate:arbitrary-node"}, "", []string{"nodes"}, "n1"),
			}},
		},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{bind("legacy", "imp"), bind("constrained", "con")},
	}
	type h = map[string][]string
	for _, c := range []struct {
		requestor, path string
		headers         h
	}{
		{"nobody", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"carol"}}},
		{"nobody", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {""}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"carol"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"carol"}, "Impersonate-Group": {"ops"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"carol"}, "Impersonate-Group": {"ops", "dev"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"eve"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-Group": {"ops"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-Uid": {"u1"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"carol"}, "Impersonate-Uid": {"u1"}, "Impersonate-Extra-Scopes": {"a", "b"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"carol"}, "Impersonate-Extra-Other": {"a"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"system:serviceaccount:ns:builder"}}},
		{"imp", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"system:anonymous"}}},
		{"imp", "/healthz", h{"Impersonate-User": {"carol"}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"dave"}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"dave"}, "Impersonate-Group": {"devs"}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"dave"}, "Impersonate-Group": {"system:masters"}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"dave"}, "Impersonate-Group": {""}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"system:serviceaccount:ns:builder"}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"system:serviceaccount:ns:builder"}, "Impersonate-Group": {"devs"}}},
		{"con", "/api/v1/namespaces/ns/pods/p", h{"Impersonate-User": {"dave"}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"system:node:n1"}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"system:node:n2"}}},
		{"con", "/api/v1/namespaces/ns/pods", h{"Impersonate-User": {"dave"}, "Impersonate-Extra-Bad%20Key": {"x"}}},
	} {
		tab.Cases = append(tab.Cases, ImpersonationCase{Requestor: c.requestor, Path: c.path, Headers: c.headers})
	}

	index := func(objs ...any) cache.Indexer {
		i := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		for _, o := range objs {
			if err := i.Add(o); err != nil {
				t.Fatal(err)
			}
		}
		return i
	}
	var cro, crbo []any
	for _, o := range tab.ClusterRoles {
		cro = append(cro, o)
	}
	for _, o := range tab.ClusterRoleBindings {
		crbo = append(crbo, o)
	}
	rbacAuthz := rbac.New(
		&rbac.RoleGetter{Lister: rbaclisters.NewRoleLister(index())},
		sortedRoleBindings{rbaclisters.NewRoleBindingLister(index())},
		&rbac.ClusterRoleGetter{Lister: rbaclisters.NewClusterRoleLister(index(cro...))},
		sortedClusterRoleBindings{rbaclisters.NewClusterRoleBindingLister(index(crbo...))})
	chain, err := union.New(
		union.NamedAuthorizer{AuthorizerName: "kubernetes.io/system-privileged-group", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)},
		union.NamedAuthorizer{AuthorizerName: "rbac", Authorizer: rbacAuthz},
	)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, metav1.SchemeGroupVersion)
	codecs := serializer.NewCodecFactory(scheme).WithoutConversion()
	var got user.Info
	filter := impersonation.WithConstrainedImpersonation(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, _ = request.UserFrom(r.Context())
	}), chain, codecs)
	infos := &request.RequestInfoFactory{APIPrefixes: sets.NewString("api", "apis"), GrouplessAPIPrefixes: sets.NewString("api")}
	for i := range tab.Cases {
		c := &tab.Cases[i]
		r := httptest.NewRequest(http.MethodGet, c.Path, nil)
		for k, v := range c.Headers {
			r.Header[k] = v
		}
		info, err := infos.NewRequestInfo(r)
		if err != nil {
			t.Fatal(err)
		}
		ctx := request.WithRequestInfo(request.WithUser(r.Context(), &user.DefaultInfo{Name: c.Requestor, Groups: []string{user.AllAuthenticated}}), info)
		got = nil
		rec := httptest.NewRecorder()
		filter.ServeHTTP(rec, r.WithContext(ctx))
		c.Code = rec.Code
		if rec.Code != http.StatusOK {
			c.Status = &metav1.Status{}
			if err := json.Unmarshal(rec.Body.Bytes(), c.Status); err != nil {
				t.Fatalf("%+v: %d %s", c, rec.Code, rec.Body)
			}
			continue
		}
		c.User = &ImpersonatedUser{Name: got.GetName(), UID: got.GetUID(), Groups: got.GetGroups(), Extra: got.GetExtra()}
	}
	out, err := json.MarshalIndent(tab, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	writeOrCompare(t, "../../internal/authz/testdata/impersonation.json", out)
}
