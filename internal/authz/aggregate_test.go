package authz_test

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/authz/bootstrap"
	"github.com/regis-dev/regis/registest"
)

func TestAggregatedRules(t *testing.T) {
	sel := func(k string) metav1.LabelSelector {
		return metav1.LabelSelector{MatchLabels: map[string]string{k: "true"}}
	}
	r1 := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	r2 := rbacv1.PolicyRule{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg", Labels: map[string]string{"a": "true"}},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel("b"), sel("a")}},
		Rules:           []rbacv1.PolicyRule{r1}}
	all := []*rbacv1.ClusterRole{agg,
		{ObjectMeta: metav1.ObjectMeta{Name: "z", Labels: map[string]string{"a": "true"}}, Rules: []rbacv1.PolicyRule{r1, r2}},
		{ObjectMeta: metav1.ObjectMeta{Name: "y", Labels: map[string]string{"b": "true"}}, Rules: []rbacv1.PolicyRule{r2}},
		{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}}}},
	}
	rules, ok, err := authz.AggregatedRules(agg, all)
	// Selector b first (y: r2), then a (z: r1, r2 already there); the
	// role itself is never picked.
	if !ok || err != nil || len(rules) != 2 || rules[0].String() != r2.String() || rules[1].String() != r1.String() {
		t.Errorf("%v %v %v", rules, ok, err)
	}
	if _, ok, _ := authz.AggregatedRules(all[1], all); ok {
		t.Error("role without aggregationRule aggregated")
	}
}

// TestAggregationController runs the controller on a real regis over
// the bootstrap policy: admin ends with the rules of view, edit and
// admin's parts, and a new role labeled aggregate-to-view reaches view,
// edit and admin.
func TestAggregationController(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c := kubernetes.NewForConfigOrDie(srv.Config())
	if err := bootstrap.Ensure(ctx, bootstrap.Default(), bootstrap.ClientStores(c), nil); err != nil {
		t.Fatal(err)
	}
	lister := authz.NewMemoryLister()
	ctrl := authz.NewAggregationController(lister, authz.ApplyRulesWriter{Client: c}, nil)
	ctrl.Retry = 50 * time.Millisecond
	f := informers.NewSharedInformerFactory(c, 0)
	inf := f.Rbac().V1().ClusterRoles().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { lister.Set(o); ctrl.Changed() },
		UpdateFunc: func(_, o any) { lister.Set(o); ctrl.Changed() },
		DeleteFunc: func(o any) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			lister.Delete(o)
			ctrl.Changed()
		},
	})
	f.Start(ctx.Done())
	defer f.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("no sync")
	}
	done := make(chan error)
	go func() { done <- ctrl.Run(ctx) }()
	defer func() { cancel(); <-done }()

	has := func(name string, r rbacv1.PolicyRule) bool {
		cr, err := c.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, x := range cr.Rules {
			if x.String() == r.String() {
				return true
			}
		}
		return false
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	pods := rbacv1.PolicyRule{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""},
		Resources: []string{"configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
			"replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"}}
	waitFor("view's rules in admin", func() bool { return has("view", pods) && has("edit", pods) && has("admin", pods) })

	widgets := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{"example.com"}, Resources: []string{"widgets"}}
	_, err = c.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets-view", Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
		Rules:      []rbacv1.PolicyRule{widgets}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor("a new view rule in admin", func() bool { return has("view", widgets) && has("edit", widgets) && has("admin", widgets) })
	cr, _ := c.RbacV1().ClusterRoles().Get(ctx, "admin", metav1.GetOptions{})
	managed := false
	for _, m := range cr.ManagedFields {
		managed = managed || m.Manager == authz.AggregationFieldManager
	}
	if !managed {
		t.Errorf("admin's rules not managed by %s: %v", authz.AggregationFieldManager, cr.ManagedFields)
	}
}
