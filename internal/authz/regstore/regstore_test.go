package regstore_test

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/authz/bootstrap"
	"github.com/regis-dev/regis/internal/authz/regstore"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
)

// TestWiring runs the server's authorization wiring on a registry over a
// real etcd with watch caches: the bootstrap policy reconciled into it,
// the lister fed from the caches, the aggregation controller writing
// admin's rules, and the authorizer answering from the lister.
func TestWiring(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	etcd := etcdtest.New(t)
	factory := server.EtcdStorage(server.EtcdConfig{Client: etcd.Client(t), Prefix: "/registry"})
	factory, caches := server.CachedStorage(factory, server.CacheConfig{Cached: func(schema.GroupResource) bool { return true }})
	reg, err := registry.New(registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(), Storage: factory})
	if err != nil {
		t.Fatal(err)
	}
	cachesDone := make(chan struct{})
	go func() { defer close(cachesDone); _ = caches.Run(ctx) }()
	defer func() { cancel(); <-cachesDone }()

	stores, err := regstore.Stores(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := bootstrap.Ensure(ctx, bootstrap.Default(), stores, nil); err != nil {
		t.Fatal(err)
	}
	// A second pass finds everything in place.
	if err := bootstrap.Ensure(ctx, bootstrap.Default(), stores, nil); err != nil {
		t.Fatal(err)
	}
	sources, err := regstore.Sources(reg)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := regstore.NewRulesWriter(reg)
	if err != nil {
		t.Fatal(err)
	}
	l := authz.NewMemoryLister()
	agg := authz.NewAggregationController(l, writer, nil)
	agg.Retry = 50 * time.Millisecond
	fed, aggDone := make(chan struct{}), make(chan error)
	go func() { l.Feed(ctx, sources, agg.Changed, 50*time.Millisecond); close(fed) }()
	go func() { aggDone <- agg.Run(ctx) }()
	defer func() { cancel(); <-fed; <-aggDone }()

	a, err := authz.New(authz.Config{Lister: l})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !l.Synced() {
		if time.Now().After(deadline) {
			t.Fatal("lister never synced")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The scheduler may bind pods (bootstrap system:kube-scheduler).
	d, reason, _ := a.Authorize(ctx, &authz.Attributes{User: &authz.User{Name: "system:kube-scheduler"}, Verb: "create",
		Resource: "pods", Subresource: "binding", Namespace: "default", ResourceRequest: true})
	if d != authz.DecisionAllow {
		t.Errorf("scheduler binding pods: %v %q", d, reason)
	}
	// admin gets view's, edit's and its own parts' rules.
	for {
		admin, _ := l.GetClusterRole(ctx, "admin")
		if admin != nil && hasResource(admin.Rules, "pods/exec") && hasResource(admin.Rules, "rolebindings") &&
			hasResource(admin.Rules, "persistentvolumeclaims/status") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin never aggregated: %v", admin)
		}
		time.Sleep(20 * time.Millisecond)
	}
	u := &authz.User{Name: "alice"}
	l.Set(&rbacv1.RoleBinding{ObjectMeta: objectMeta("default", "alice-admin"),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}})
	if d, _, _ := a.Authorize(ctx, &authz.Attributes{User: u, Verb: "create", Resource: "pods", Subresource: "exec",
		Namespace: "default", ResourceRequest: true}); d != authz.DecisionAllow {
		t.Errorf("admin in default: %v", d)
	}
}

func hasResource(rules []rbacv1.PolicyRule, r string) bool {
	for _, p := range rules {
		for _, x := range p.Resources {
			if x == r {
				return true
			}
		}
	}
	return false
}

func objectMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name}
}
