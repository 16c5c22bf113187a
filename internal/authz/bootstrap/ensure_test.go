package bootstrap_test

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/authz/bootstrap"
	"github.com/regis-dev/regis/registest"
)

// TestEnsure reconciles the policy on a real regis (real etcd) through
// client-go: created once, unchanged by a second pass, a lost rule
// restored with the user's rule kept, a protected role left alone.
func TestEnsure(t *testing.T) {
	ctx := context.Background()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c := kubernetes.NewForConfigOrDie(srv.Config())
	st := bootstrap.ClientStores(c)
	p := bootstrap.Default()
	if err := bootstrap.Ensure(ctx, p, st, nil); err != nil {
		t.Fatal(err)
	}
	crs, err := c.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: bootstrap.BootstrappingLabel})
	if err != nil || len(crs.Items) < len(p.ClusterRoles) {
		t.Fatalf("%d cluster roles, %v", len(crs.Items), err)
	}
	rb, err := c.RbacV1().RoleBindings("kube-public").Get(ctx, "system:controller:bootstrap-signer", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	discovery, _ := c.RbacV1().ClusterRoles().Get(ctx, "system:discovery", metav1.GetOptions{})
	rv := discovery.ResourceVersion
	if err := bootstrap.Ensure(ctx, p, st, nil); err != nil {
		t.Fatal(err)
	}
	if again, _ := c.RbacV1().ClusterRoles().Get(ctx, "system:discovery", metav1.GetOptions{}); again.ResourceVersion != rv {
		t.Errorf("second pass rewrote system:discovery")
	}

	// The user replaces view's rules in system:aggregate-to-view and
	// protects system:basic-user.
	v, _ := c.RbacV1().ClusterRoles().Get(ctx, "system:aggregate-to-view", metav1.GetOptions{})
	mine := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{"example.com"}, Resources: []string{"widgets"}}
	v.Rules = []rbacv1.PolicyRule{mine}
	if _, err := c.RbacV1().ClusterRoles().Update(ctx, v, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	bu, _ := c.RbacV1().ClusterRoles().Get(ctx, "system:basic-user", metav1.GetOptions{})
	bu.Rules = nil
	bu.Annotations[bootstrap.AutoUpdateAnnotation] = "false"
	if _, err := c.RbacV1().ClusterRoles().Update(ctx, bu, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RbacV1().RoleBindings("kube-public").Delete(ctx, rb.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := bootstrap.Ensure(ctx, p, st, nil); err != nil {
		t.Fatal(err)
	}
	v, _ = c.RbacV1().ClusterRoles().Get(ctx, "system:aggregate-to-view", metav1.GetOptions{})
	if len(v.Rules) < 2 || v.Rules[0].String() != mine.String() {
		t.Errorf("view: %d rules, first %v", len(v.Rules), v.Rules[0])
	}
	bu, _ = c.RbacV1().ClusterRoles().Get(ctx, "system:basic-user", metav1.GetOptions{})
	if len(bu.Rules) != 0 {
		t.Errorf("protected role reconciled: %v", bu.Rules)
	}
	if _, err := c.RbacV1().RoleBindings("kube-public").Get(ctx, rb.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("deleted binding not recreated: %v", err)
	}
}
