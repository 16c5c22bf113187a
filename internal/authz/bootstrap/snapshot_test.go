package bootstrap_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/authz/bootstrap"
	"github.com/regis-dev/regis/registest"
)

// TestSnapshotStale: a reconcile reading from lists taken before an
// object changed gets a conflict on its write, reads the stored object
// and reconciles that one, keeping the change.
func TestSnapshotStale(t *testing.T) {
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
	roles := c.RbacV1().ClusterRoles()
	d, err := roles.Get(ctx, "system:discovery", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Rules = nil
	if d, err = roles.Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := bootstrap.WithSnapshots(ctx, p, st)
	d.Annotations["example.com/changed"] = "after the snapshot"
	if _, err = roles.Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := bootstrap.Ensure(ctx, p, stale, nil); err != nil {
		t.Fatal(err)
	}
	d, err = roles.Get(ctx, "system:discovery", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The missing rules come back (broken down per URL, as upstream's
	// reconcile adds them), the change made after the snapshot stays.
	if len(d.Rules) == 0 || d.Annotations["example.com/changed"] == "" {
		t.Errorf("after the reconcile: rules %v, annotations %v", d.Rules, d.Annotations)
	}
}
