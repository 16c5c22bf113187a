package registest_test

import (
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

// BenchmarkServiceAccountGet is a GET of a config map by the
// administrator (client certificate, system:masters) and by a service
// account (bearer token, RBAC view): the cost of token authentication
// and authorization per request, over HTTPS in one process.
func BenchmarkServiceAccountGet(b *testing.B) {
	ctx := b.Context()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Stop() })
	admin := kubernetes.NewForConfigOrDie(srv.Config())
	if _, err := admin.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("default").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "reader", Namespace: "default"}}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(ctx, "reader", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	reader := tokenClient(srv, tr.Status.Token)
	for _, bc := range []struct {
		name string
		cs   *kubernetes.Clientset
	}{{"system:masters", admin}, {"serviceaccount", reader}} {
		b.Run(bc.name, func(b *testing.B) {
			// The binding reaches the authorizer's cache asynchronously.
			for {
				if _, err := bc.cs.CoreV1().ConfigMaps("default").Get(ctx, "cm", metav1.GetOptions{}); err == nil {
					break
				}
			}
			for b.Loop() {
				if _, err := bc.cs.CoreV1().ConfigMaps("default").Get(ctx, "cm", metav1.GetOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
