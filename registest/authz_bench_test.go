package registest_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// BenchmarkGetAuthorized is the measure of the cost of
// authorization on a whole server (embedded etcd, watch caches, RBAC
// with upstream's bootstrap policy): a GET of a config map through
// client-go, both users authenticated by client certificate, as a member
// of system:masters (allowed before RBAC is asked) and as an
// RBAC-limited user (allowed by a role binding, after the bootstrap
// cluster role bindings are looked at), in one run.
//
//	go test ./registest -run '^$' -bench GetAuthorized -benchtime 3000x
func BenchmarkGetAuthorized(b *testing.B) {
	e := startAuthz(b)
	ctx := b.Context()
	if _, err := e.admin.CoreV1().ConfigMaps("team").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "g"},
		Data: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := e.admin.RbacV1().RoleBindings("team").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-view"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{userSubject("alice")}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	users := []struct {
		name string
		cs   *kubernetes.Clientset
	}{{"masters", e.admin}, {"limited", e.alice}}
	for _, c := range users {
		for range 1000 { // warm up; the binding reaches the authorizer
			if _, err := c.cs.CoreV1().ConfigMaps("team").Get(ctx, "g", metav1.GetOptions{}); err == nil {
				break
			}
		}
	}
	// Rounds alternate the users, so that a change of the machine's
	// load weighs on both alike.
	for range 5 {
		for _, c := range users {
			b.Run(c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.cs.CoreV1().ConfigMaps("team").Get(ctx, "g", metav1.GetOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
