package builtin_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// TestHPAVersionsRoundTrip writes an autoscaler at v2 with what v1 cannot
// say (a memory metric, a behavior, conditions), updates it through v1 as
// a client that reads and writes back does, and finds all of it at v2,
// while v1 shows the CPU target and none of the round-trip annotations
// reach storage.
func TestHPAVersionsRoundTrip(t *testing.T) {
	reg := newRegistry(t)
	v2, _ := reg.Lookup(schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"})
	v1, _ := reg.Lookup(schema.GroupVersionResource{Group: "autoscaling", Version: "v1", Resource: "horizontalpodautoscalers"})
	memory := resource.MustParse("100Mi")
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: map[string]string{"keep": "me"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
			MaxReplicas:    5,
			// The CPU utilization last: v1 carries it in a field of its
			// own and puts it back after the other metrics.
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &memory}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptrTo(int32(70))}}},
			},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptrTo(int32(60))}},
		},
	}
	if _, err := v2.Create(t.Context(), "default", hpa, registry.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := v2.Update(t.Context(), "default", "web", func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		h := existing.DeepCopyObject().(*autoscalingv2.HorizontalPodAutoscaler)
		h.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "Ready"}}
		return h, nil
	}, registry.UpdateOptions{Subresource: registry.StatusSubresource}); err != nil {
		t.Fatal(err)
	}
	before, err := v2.Get(t.Context(), "default", "web", nil)
	if err != nil {
		t.Fatal(err)
	}

	got, err := v1.Get(t.Context(), "default", "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	old := got.(*autoscalingv1.HorizontalPodAutoscaler)
	if p := old.Spec.TargetCPUUtilizationPercentage; p == nil || *p != 70 {
		t.Errorf("v1 targetCPUUtilizationPercentage = %v, want 70", p)
	}
	for _, k := range []string{"autoscaling.alpha.kubernetes.io/metrics", "autoscaling.alpha.kubernetes.io/behavior",
		"autoscaling.alpha.kubernetes.io/conditions", "keep"} {
		if _, ok := old.Annotations[k]; !ok {
			t.Errorf("v1 has no annotation %s: %v", k, old.Annotations)
		}
	}
	if err := update(t, v1, "default", "web", func(o runtime.Object) {
		o.(*autoscalingv1.HorizontalPodAutoscaler).Spec.MaxReplicas = 9
	}); err != nil {
		t.Fatal(err)
	}

	after, err := v2.Get(t.Context(), "default", "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := before.(*autoscalingv2.HorizontalPodAutoscaler).DeepCopy()
	want.Spec.MaxReplicas = 9
	h := after.(*autoscalingv2.HorizontalPodAutoscaler)
	if diff := cmp.Diff(want.Spec, h.Spec); diff != "" {
		t.Errorf("spec after a v1 update (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.Status, h.Status); diff != "" {
		t.Errorf("status after a v1 update (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"keep": "me"}, h.Annotations); diff != "" {
		t.Errorf("annotations at v2 (-want +got):\n%s", diff)
	}
	if h.Generation != 2 {
		t.Errorf("generation = %d, want 2", h.Generation)
	}
}

func ptrTo[T any](v T) *T { return &v }
