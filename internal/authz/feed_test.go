package authz_test

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/registest"
)

// clientSource lists and watches through client-go (the server backs
// Sources with its watch cache; a client is the same API seen from
// outside).
type clientSource struct {
	list  func(context.Context, metav1.ListOptions) (runtime.Object, error)
	watch func(context.Context, metav1.ListOptions) (watch.Interface, error)
}

func (s clientSource) List(ctx context.Context) (runtime.Object, error) {
	return s.list(ctx, metav1.ListOptions{ResourceVersion: "0"})
}

func (s clientSource) Watch(ctx context.Context, rv string) (watch.Interface, error) {
	return s.watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
}

func clientSources(c kubernetes.Interface) authz.Sources {
	r := c.RbacV1()
	return authz.Sources{
		Roles: clientSource{func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return r.Roles("").List(ctx, o)
		},
			r.Roles("").Watch},
		RoleBindings: clientSource{func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return r.RoleBindings("").List(ctx, o)
		},
			r.RoleBindings("").Watch},
		ClusterRoles: clientSource{func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return r.ClusterRoles().List(ctx, o)
		},
			r.ClusterRoles().Watch},
		ClusterRoleBindings: clientSource{func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return r.ClusterRoleBindings().List(ctx, o)
		}, r.ClusterRoleBindings().Watch},
	}
}

// TestFeed keeps a lister current from a real regis: a binding created,
// then deleted, changes the authorizer's answer.
func TestFeed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c := kubernetes.NewForConfigOrDie(srv.Config())
	_, err = c.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := authz.NewMemoryLister()
	done := make(chan struct{})
	go func() { l.Feed(ctx, clientSources(c), nil, 50*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	a, _ := authz.New(authz.Config{Lister: l})
	get := &authz.Attributes{User: &authz.User{Name: "alice"}, Verb: "get", Resource: "pods", Namespace: "default", ResourceRequest: true}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
		}
	}
	allowed := func() bool { d, _, _ := a.Authorize(ctx, get); return d == authz.DecisionAllow }
	waitFor("synced", l.Synced)
	if allowed() {
		t.Fatal("allowed before the binding")
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "alice"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}}
	if _, err := c.RbacV1().RoleBindings("default").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("allowed after the binding", allowed)
	if err := c.RbacV1().RoleBindings("default").Delete(ctx, "alice", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("refused after the deletion", func() bool { return !allowed() })
}
