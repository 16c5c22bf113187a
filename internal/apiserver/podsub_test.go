package apiserver_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestPodBinding binds a pod as a scheduler does, then refuses a second
// binding with upstream's conflict.
func TestPodBinding(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	pods := cs.CoreV1().Pods("default")
	p, err := pods.Create(ctx, testPod("bind"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "bind", Annotations: map[string]string{"a": "b"}},
		Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
	if err := pods.Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	got, err := pods.Get(ctx, "bind", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.NodeName != "node-1" || got.Annotations["a"] != "b" || got.Generation != p.Generation {
		t.Errorf("bound pod: node %q, annotations %v, generation %d (was %d)", got.Spec.NodeName, got.Annotations, got.Generation, p.Generation)
	}
	if c := got.Status.Conditions; len(c) != 1 || c[0].Type != corev1.PodScheduled || c[0].Status != corev1.ConditionTrue {
		t.Errorf("conditions: %+v", c)
	}
	err = pods.Bind(ctx, b, metav1.CreateOptions{})
	expectStatus(t, "second binding", err, 409, metav1.StatusReasonConflict,
		`Operation cannot be fulfilled on pods/binding "bind": pod bind is already assigned to node "node-1"`)
	b.Name = "other"
	err = pods.Bind(ctx, b, metav1.CreateOptions{})
	expectStatus(t, "missing pod", err, 404, metav1.StatusReasonNotFound, `pods "other" not found`)
}

// TestPodEviction evicts a pending pod at once, and refuses a running one
// that a budget protects while its controller has not caught up.
func TestPodEviction(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	pods := cs.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, testPod("pending"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "pending"}}
	if err := pods.EvictV1(ctx, ev); err != nil {
		t.Fatalf("evict pending: %v", err)
	}
	if _, err := pods.Get(ctx, "pending", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("evicted pending pod: %v", err)
	}

	p, err := pods.Create(ctx, testPod("running"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	one := intstr.FromInt32(1)
	_, err = cs.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "budget"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = pods.EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "running"}})
	expectStatus(t, "budget not processed", err, 429, metav1.StatusReasonTooManyRequests,
		"Cannot evict pod as it would violate the pod's disruption budget.")
	if _, err := pods.Get(ctx, "running", metav1.GetOptions{}); err != nil {
		t.Errorf("protected pod: %v", err)
	}
}

// TestPodEphemeralContainersAndResize writes through the two views of a
// pod: each changes only its part.
func TestPodEphemeralContainersAndResize(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	pods := cs.CoreV1().Pods("default")
	p := testPod("views")
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
	p, err := pods.Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: "busybox", TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullAlways}}}
	p.Spec.Containers[0].Image = "ignored"
	got, err := pods.UpdateEphemeralContainers(ctx, "views", p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("ephemeral containers: %v", err)
	}
	if len(got.Spec.EphemeralContainers) != 1 || got.Spec.Containers[0].Image != "busybox" {
		t.Errorf("after ephemeralcontainers: %d ephemeral, image %q", len(got.Spec.EphemeralContainers), got.Spec.Containers[0].Image)
	}
	got.Spec.EphemeralContainers = nil
	_, err = pods.UpdateEphemeralContainers(ctx, "views", got, metav1.UpdateOptions{})
	expectStatus(t, "remove ephemeral", err, 422, metav1.StatusReasonInvalid, "")

	got, err = pods.Get(ctx, "views", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("200m")
	got.Spec.Containers[0].Image = "ignored"
	res, err := pods.UpdateResize(ctx, "views", got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("resize: %v", err)
	}
	c := res.Spec.Containers[0]
	if q := c.Resources.Requests[corev1.ResourceCPU]; q.String() != "200m" || c.Image != "busybox" {
		t.Errorf("after resize: cpu %s, image %q", q.String(), c.Image)
	}
	res.Spec.Containers[0].Resources.Requests = nil
	_, err = pods.UpdateResize(ctx, "views", res, metav1.UpdateOptions{})
	expectStatus(t, "remove requests", err, 422, metav1.StatusReasonInvalid, "")
}
