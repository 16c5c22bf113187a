package registest_test

import (
	"testing"
	"time"

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

// BenchmarkGetAuthorizedPaired is BenchmarkGetAuthorized with the two
// users' GETs alternating request by request, each timed: a change of
// the machine's load weighs on both alike. It reports each user's mean
// and their ratio (limited/masters).
//
//	go test ./registest -run '^$' -bench GetAuthorizedPaired -benchtime 5000x -count 3
func BenchmarkGetAuthorizedPaired(b *testing.B) {
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
	get := func(cs *kubernetes.Clientset) error {
		_, err := cs.CoreV1().ConfigMaps("team").Get(ctx, "g", metav1.GetOptions{})
		return err
	}
	for range 1000 { // warm up; the binding reaches the authorizer
		if get(e.alice) == nil && get(e.admin) == nil {
			break
		}
	}
	var masters, limited time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, too.
		first, second, df, ds := e.admin, e.alice, &masters, &limited
		if i%2 == 1 {
			first, second, df, ds = e.alice, e.admin, &limited, &masters
		}
		t0 := time.Now()
		if err := get(first); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := get(second); err != nil {
			b.Fatal(err)
		}
		*df += t1.Sub(t0)
		*ds += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(masters.Nanoseconds())/n, "masters-ns/get")
	b.ReportMetric(float64(limited.Nanoseconds())/n, "limited-ns/get")
	b.ReportMetric(float64(limited)/float64(masters), "ratio")
}
