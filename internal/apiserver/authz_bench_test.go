package apiserver_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/apiserver"
	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/authz/bootstrap"
)

// BenchmarkGetAuthorized is the measure of the cost of
// authorization: a GET of a pod through client-go and HTTP as a member of
// system:masters (allowed before RBAC is asked) and as an RBAC-limited
// user (allowed by a role binding after the 54 bootstrap cluster role
// bindings are looked at), in one run, both authenticated by token and
// authorized in front of the server's handler over the bootstrap policy.
//
//	go test ./internal/apiserver -run '^$' -bench GetAuthorized -benchtime 3000x -count 5
func BenchmarkGetAuthorized(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	if _, err := e.cs.CoreV1().Pods("default").Create(ctx, testPod("g"), metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	p := bootstrap.Default()
	objs := []any{&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "alice-view"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:aggregate-to-view"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}}}
	for _, o := range p.ClusterRoles {
		objs = append(objs, o)
	}
	for _, o := range p.ClusterRoleBindings {
		objs = append(objs, o)
	}
	for _, o := range p.Roles {
		objs = append(objs, o)
	}
	for _, o := range p.RoleBindings {
		objs = append(objs, o)
	}
	a, err := authz.New(authz.Config{Lister: authz.NewMemoryLister(objs...)})
	if err != nil {
		b.Fatal(err)
	}
	authn := apiserver.Authenticators{apiserver.NewTokenUsers(map[string]*authz.User{
		"masters": {Name: "root", Groups: []string{"system:masters"}},
		"limited": {Name: "alice", Groups: []string{"devs"}},
	})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := apiserver.AuthorizeRequest(authn, a, r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		e.s.Config.Handler.ServeHTTP(w, r)
	}))
	defer hs.Close()
	for _, who := range []string{"masters", "limited"} {
		cs := kubernetes.NewForConfigOrDie(&rest.Config{Host: hs.URL, QPS: -1, BearerToken: who})
		b.Run(who, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cs.CoreV1().Pods("default").Get(ctx, "g", metav1.GetOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
