package registry_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// Upstream's rest.BeforeDelete with the pod strategy's CheckGracefulDelete:
// a pod a node runs is only marked, deletionTimestamp now + the grace
// period (the request's, else the pod's terminationGracePeriodSeconds,
// else 30) and deletionGracePeriodSeconds the period, its generation
// bumped once; a later delete may only shorten the period, and a period
// of 0 deletes it. A pod no node runs is deleted at once.
func TestDeleteGracefulPod(t *testing.T) {
	f := newFixture(t)
	pods := f.pods(t)
	after := func(seconds int) metav1.Time { return metav1.NewTime(nowSec.Add(time.Duration(seconds) * time.Second)) }
	type step struct {
		grace       *int64 // the request's gracePeriodSeconds
		wantDeleted bool
		wantGrace   int64
		wantAt      metav1.Time
		wantWrite   bool // the stored object changes
	}
	tests := []struct {
		name  string
		pod   *corev1.Pod
		steps []step
	}{
		{name: "default period, then shortened, then now", pod: pod("a", "node-1"), steps: []step{
			{wantGrace: 30, wantAt: after(30), wantWrite: true},
			{wantGrace: 30, wantAt: after(30)},
			{grace: new(int64(40)), wantGrace: 30, wantAt: after(30)},
			{grace: new(int64(10)), wantGrace: 10, wantAt: after(10), wantWrite: true},
			{grace: new(int64(0)), wantDeleted: true},
		}},
		{name: "pod's own period", pod: withGrace(pod("b", "node-1"), 5), steps: []step{
			{wantGrace: 5, wantAt: after(5), wantWrite: true},
		}},
		{name: "request's period", pod: withGrace(pod("c", "node-1"), 5), steps: []step{
			{grace: new(int64(60)), wantGrace: 60, wantAt: after(60), wantWrite: true},
		}},
		{name: "zero period", pod: pod("d", "node-1"), steps: []step{
			{grace: new(int64(0)), wantDeleted: true},
		}},
		{name: "unscheduled", pod: pod("e", ""), steps: []step{
			{wantDeleted: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created := create(t, pods, tt.pod)
			if created.Generation != 1 {
				t.Fatalf("created at generation %d, want 1", created.Generation)
			}
			prev := created
			for i, st := range tt.steps {
				out, deleted, err := pods.Delete(t.Context(), testNS, created.Name,
					registry.DeleteOptions{DeleteOptions: metav1.DeleteOptions{GracePeriodSeconds: st.grace}})
				if err != nil || deleted != st.wantDeleted {
					t.Fatalf("step %d: deleted %v, err %v; want deleted %v", i, deleted, err, st.wantDeleted)
				}
				if st.wantDeleted {
					f.wantNotFound(t, pods, created.Name)
					continue
				}
				got := out.(*corev1.Pod)
				wantMarked(t, got, st.wantAt, st.wantGrace)
				if got.Generation != 2 {
					t.Errorf("step %d: generation %d, want 2", i, got.Generation)
				}
				if wrote := got.ResourceVersion != prev.ResourceVersion; wrote != st.wantWrite {
					t.Errorf("step %d: wrote %v (resourceVersion %s, was %s), want %v", i, wrote, got.ResourceVersion, prev.ResourceVersion, st.wantWrite)
				}
				stored := get[*corev1.Pod](t, pods, created.Name)
				wantMarked(t, stored, st.wantAt, st.wantGrace)
				prev = stored
			}
		})
	}

	t.Run("finished pod", func(t *testing.T) {
		create(t, pods, pod("done", "node-1"))
		update[*corev1.Pod](t, pods, "done", edit(func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
			registry.UpdateOptions{Subresource: registry.StatusSubresource})
		if _, deleted, err := pods.Delete(t.Context(), testNS, "done", registry.DeleteOptions{}); err != nil || !deleted {
			t.Fatalf("deleted %v, err %v; a finished pod goes at once", deleted, err)
		}
		f.wantNotFound(t, pods, "done")
	})

	// Upstream's ShouldDeleteDuringUpdate deletes on update only once the
	// grace period is 0: the kubelet's status writes during the period
	// keep the pod.
	t.Run("update during the grace period", func(t *testing.T) {
		create(t, pods, pod("running", "node-1"))
		if _, _, err := pods.Delete(t.Context(), testNS, "running", registry.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		update[*corev1.Pod](t, pods, "running", func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
			p := existing.(*corev1.Pod)
			p.Status.Message = "terminating"
			return p, nil
		}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
		stored, err := pods.Get(t.Context(), testNS, "running", nil)
		if err != nil {
			t.Fatalf("an update of a pod in its grace period deleted it (%v); upstream keeps it until a delete with period 0", err)
		}
		wantMarked(t, stored, after(30), 30)
	})
}

func withGrace(p *corev1.Pod, seconds int64) *corev1.Pod {
	p.Spec.TerminationGracePeriodSeconds = &seconds
	return p
}
