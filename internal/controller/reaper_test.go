package controller_test

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/registry"
)

// reaperEnv is a registry on a clock of the test's, with its reaper.
type reaperEnv struct {
	clock  *fakeClock
	reaper *controller.GracefulReaper
	pods   *registry.Store
}

// newReaper returns a registry whose clock the test moves, and its reaper,
// not started, rescanning often: the reaper sleeps on the wall clock, so
// only its rescans see the test's clock move.
func newReaper(t *testing.T) *reaperEnv {
	t.Helper()
	clock := newFakeClock()
	reg := newRegistry(t, withClock(clock))
	r := controller.NewGracefulReaper(reg, testLog(t))
	r.Resync = 20 * time.Millisecond
	createNamespace(t, reg, "default")
	return &reaperEnv{clock: clock, reaper: r, pods: storeOf(t, reg, "v1", "pods")}
}

// scheduledPod is a pod bound to a node, which the kubelet (the reaper)
// deletes once its grace period has passed.
func scheduledPod(name string, grace *int64, finalizers ...string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: finalizers},
		Spec: corev1.PodSpec{NodeName: "node-1", TerminationGracePeriodSeconds: grace,
			Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
}

// passes waits until the reaper has judged the pods at least n times on
// the clock as it is now.
func (e *reaperEnv) passes(t *testing.T, n int64) {
	t.Helper()
	// The reaper reads the clock once per pass, after its list; nothing
	// else reads it while the test waits.
	from := e.clock.reads.Load()
	waitFor(t, func() bool { return e.clock.reads.Load() >= from+n },
		func() string { return "the reaper does not run" })
}

// present checks that a pod is still there.
func (e *reaperEnv) present(t *testing.T, name, why string) *corev1.Pod {
	t.Helper()
	p, ok := get(t, e.pods, "default", name).(*corev1.Pod)
	if !ok {
		t.Fatalf("pod %s is gone: %s", name, why)
	}
	return p
}

// A scheduled pod deleted gracefully is marked for its grace period, and
// reaped once the clock reaches its deletionTimestamp, not before.
func TestReaperDeletesAfterTheGracePeriod(t *testing.T) {
	e := newReaper(t)
	start(t, e.reaper)
	p := create(t, e.pods, "default", scheduledPod("running", ptr(int64(2))))
	t0 := e.clock.Now()
	if _, deleted := del(t, e.pods, "default", "running", metav1.DeleteOptions{}); deleted {
		t.Fatal("a scheduled pod is deleted at once, want it kept for its grace period")
	}
	got := e.present(t, "running", "a scheduled pod stays for its grace period")
	if got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 2 {
		t.Errorf("deletionGracePeriodSeconds %v, want 2", got.DeletionGracePeriodSeconds)
	}
	if dt := got.DeletionTimestamp; dt == nil || !dt.Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("deletionTimestamp %v, want now + 2s (%v)", dt, t0.Add(2*time.Second))
	}
	if got.Generation != p.Generation+1 {
		t.Errorf("generation %d, want %d", got.Generation, p.Generation+1)
	}
	// A second delete with a longer period changes nothing.
	del(t, e.pods, "default", "running", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(10))})
	if again := e.present(t, "running", "a second delete"); again.ResourceVersion != got.ResourceVersion {
		t.Errorf("a second delete with a longer period rewrote the pod: %+v", again.ObjectMeta)
	}

	e.clock.Add(time.Second)
	e.passes(t, 3)
	e.present(t, "running", "reaped a second before its deletionTimestamp")
	e.clock.Add(time.Second)
	waitGone(t, e.pods, "default", "running")
}

// The reaper deletes only what is due, and a pod held by a finalizer stays
// after its grace period until the finalizer goes, as upstream: the
// kubelet's delete with gracePeriodSeconds 0 only marks it.
func TestReaperReapsWhatIsDue(t *testing.T) {
	e := newReaper(t)
	start(t, e.reaper)
	create(t, e.pods, "default", scheduledPod("soon", ptr(int64(10))))
	create(t, e.pods, "default", scheduledPod("later", ptr(int64(30))))
	create(t, e.pods, "default", scheduledPod("held", ptr(int64(10)), "regis.test/hold"))
	for _, name := range []string{"soon", "later", "held"} {
		del(t, e.pods, "default", name, metav1.DeleteOptions{})
	}

	e.clock.Add(10 * time.Second)
	waitGone(t, e.pods, "default", "soon")
	waitFor(t, func() bool {
		p := e.present(t, "held", "a finalizer holds it")
		return p.DeletionGracePeriodSeconds != nil && *p.DeletionGracePeriodSeconds == 0
	}, func() string { return "the reaper did not delete the held pod after its grace period" })
	e.passes(t, 3)
	e.present(t, "later", "reaped 20s before its deletionTimestamp")
	if p := e.present(t, "held", "a finalizer holds it"); !slices.Equal(p.Finalizers, []string{"regis.test/hold"}) {
		t.Errorf("held pod finalizers %v", p.Finalizers)
	}
	dropFinalizers(t, e.pods, "default", "held")
	waitGone(t, e.pods, "default", "held")

	e.clock.Add(20 * time.Second)
	waitGone(t, e.pods, "default", "later")
}

// Pods no node runs are deleted at once, and a pod marked by a finalizer
// only (deletionGracePeriodSeconds 0) is not the reaper's.
func TestReaperLeavesWhatIsNotGraceful(t *testing.T) {
	e := newReaper(t)
	start(t, e.reaper)
	pending := scheduledPod("pending", nil)
	pending.Spec.NodeName = ""
	create(t, e.pods, "default", pending)
	if _, deleted := del(t, e.pods, "default", "pending", metav1.DeleteOptions{}); !deleted || get(t, e.pods, "default", "pending") != nil {
		t.Fatal("an unscheduled pod is deleted at once")
	}
	held := scheduledPod("held", nil, "regis.test/hold")
	held.Spec.NodeName = ""
	create(t, e.pods, "default", held)
	del(t, e.pods, "default", "held", metav1.DeleteOptions{})
	e.clock.Add(time.Hour)
	e.passes(t, 3)
	p := e.present(t, "held", "a finalizer holds it")
	if p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 0 {
		t.Errorf("held pod: deletionTimestamp %v, deletionGracePeriodSeconds %v; want marked with 0", p.DeletionTimestamp, p.DeletionGracePeriodSeconds)
	}
	// gracePeriodSeconds=0 deletes a scheduled pod at once.
	create(t, e.pods, "default", scheduledPod("forced", nil))
	if _, deleted := del(t, e.pods, "default", "forced", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); !deleted {
		t.Error("gracePeriodSeconds=0 only marked the pod, want it deleted at once")
	}
}

// Shortening the grace period of a pod being deleted moves its deadline
// back by the difference, as upstream's rest.BeforeDelete: the period
// counts from the first delete.
func TestReaperShortenedGracePeriod(t *testing.T) {
	e := newReaper(t)
	start(t, e.reaper)
	create(t, e.pods, "default", scheduledPod("slow", nil))
	t0 := e.clock.Now()
	del(t, e.pods, "default", "slow", metav1.DeleteOptions{})
	if p := e.present(t, "slow", "its grace period is 30s"); p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("deletionGracePeriodSeconds %v, want the default 30", p.DeletionGracePeriodSeconds)
	}
	e.clock.Add(10 * time.Second)
	del(t, e.pods, "default", "slow", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(15))})
	p := e.present(t, "slow", "15s of 30 are left")
	if p.DeletionTimestamp == nil || !p.DeletionTimestamp.Time.Equal(t0.Add(15*time.Second)) || *p.DeletionGracePeriodSeconds != 15 {
		t.Fatalf("deletionTimestamp %v, deletionGracePeriodSeconds %v; want t0 + 15s (%v), 15", p.DeletionTimestamp, *p.DeletionGracePeriodSeconds, t0.Add(15*time.Second))
	}
	e.clock.Add(5 * time.Second)
	waitGone(t, e.pods, "default", "slow")
}

// Without rescans, the reaper wakes on the wall clock at the earliest
// deadline it knows.
func TestReaperWakesAtTheDeadline(t *testing.T) {
	reg := newRegistry(t)
	r := controller.NewGracefulReaper(reg, testLog(t))
	r.Resync = time.Hour
	createNamespace(t, reg, "default")
	pods := storeOf(t, reg, "v1", "pods")
	create(t, pods, "default", scheduledPod("quick", ptr(int64(1))))
	start(t, r)
	obj, _ := del(t, pods, "default", "quick", metav1.DeleteOptions{})
	dt := obj.(*corev1.Pod).DeletionTimestamp.Time
	waitFor(t, func() bool {
		gone := get(t, pods, "default", "quick") == nil
		if gone && time.Now().Before(dt) {
			t.Fatalf("the pod was reaped before its deletionTimestamp %v", dt)
		}
		return gone
	}, func() string { return "the pod outlived its grace period of 1s" })
}
