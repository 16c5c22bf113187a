package apiserver_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func scheduledPod(name, node string, grace *int64) *corev1.Pod {
	p := testPod(name)
	p.Spec.NodeName = node
	p.Spec.TerminationGracePeriodSeconds = grace
	return p
}

// TestPodGracefulDeletion deletes pods over HTTP as upstream: unscheduled
// ones at once, scheduled ones marked with their grace period (or deleted
// at once with 0, from a DeleteOptions body or kubectl --force). The
// reaping after the grace period is tested in internal/controller.
func TestPodGracefulDeletion(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	pods := cs.CoreV1().Pods("default")
	gone := func(name string) func() bool {
		return func() bool {
			_, err := pods.Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}
	}

	t.Run("unscheduled", func(t *testing.T) {
		if _, err := pods.Create(ctx, testPod("pending"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := pods.Delete(ctx, "pending", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if !gone("pending")() {
			t.Fatal("an unscheduled pod is deleted at once")
		}
	})

	t.Run("default 30s, then forced", func(t *testing.T) {
		if _, err := pods.Create(ctx, scheduledPod("slow", "node-1", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := pods.Delete(ctx, "slow", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := pods.Get(ctx, "slow", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 30 {
			t.Errorf("deletionGracePeriodSeconds %v, want 30", got.DeletionGracePeriodSeconds)
		}
		zero := int64(0)
		if err := pods.Delete(ctx, "slow", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		if !gone("slow")() {
			t.Fatal("gracePeriodSeconds=0 deletes at once")
		}
	})

	t.Run("kubectl --force --grace-period=0", func(t *testing.T) {
		if _, err := pods.Create(ctx, scheduledPod("stuck", "node-1", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		k := newKubectl(t, s)
		out := k.ok("", "delete", "pod", "stuck", "--force", "--grace-period=0")
		expectLines(t, "kubectl delete --force", out, `pod "stuck" force deleted`)
		if !gone("stuck")() {
			t.Fatal("the forced pod is still there")
		}
	})
}
