package registest_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

// TestPodPriority: pods get the priority and preemption policy of their
// PriorityClass, or of the global default class, as with upstream's
// Priority admission plugin; a missing class is 403.
func TestPodPriority(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	ctx := t.Context()
	pod := func(name, class string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
			PriorityClassName: class, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	}
	pods := cs.CoreV1().Pods("default")
	got, err := pods.Create(ctx, pod("critical", "system-node-critical"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Spec.Priority; p == nil || *p != 2000001000 || *got.Spec.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("system-node-critical pod: priority %v, policy %v", p, got.Spec.PreemptionPolicy)
	}
	_, err = pods.Create(ctx, pod("missing", "nope"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "no PriorityClass with name nope was found") {
		t.Errorf("missing class: %v", err)
	}
	never := corev1.PreemptNever
	if _, err := cs.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{
		ObjectMeta: metav1.ObjectMeta{Name: "low"}, Value: 7, GlobalDefault: true, PreemptionPolicy: &never,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The default class is read from the watch cache: it may take a moment.
	for i := 0; ; i++ {
		p := pod("", "")
		p.GenerateName = "default-class-"
		if got, err = pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if got.Spec.PriorityClassName == "low" || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got.Spec.PriorityClassName != "low" || *got.Spec.Priority != 7 || *got.Spec.PreemptionPolicy != corev1.PreemptNever {
		t.Errorf("pod without a class: class %q priority %d policy %s, want the global default's", got.Spec.PriorityClassName, *got.Spec.Priority, *got.Spec.PreemptionPolicy)
	}
}
