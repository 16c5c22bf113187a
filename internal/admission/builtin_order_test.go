package admission_test

import (
	"encoding/json"
	"errors"
	"testing"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestBuiltinPluginsBeforeWebhooks: the built-in plugins run before the
// mutating webhooks, as upstream's plugin order: the pod a webhook gets
// already carries its service account, priority, token volume and the
// LimitRanger's defaults.
func TestBuiltinPluginsBeforeWebhooks(t *testing.T) {
	cs, _ := start(t)
	ctx := t.Context()
	wh := newWebhookServer(t)
	namespace(t, cs, "order", nil)
	if _, err := cs.CoreV1().LimitRanges("order").Create(ctx, &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer,
			Default: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "order"},
		Webhooks: []admissionregv1.MutatingWebhook{{Name: "order.example.com", ClientConfig: wh.clientConfig("/mutate"),
			Rules: rules("pods", admissionregv1.Create), SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "order"}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	eventually(t, "the webhook sees pods", func() error {
		got, err := cs.CoreV1().Pods("order").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if got.Labels["admitted"] != "yes" {
			return errors.New("not mutated yet")
		}
		return nil
	})
	wh.mu.Lock()
	last := wh.reqs[len(wh.reqs)-1]
	wh.mu.Unlock()
	var seen corev1.Pod
	if err := json.Unmarshal(last.Object.Raw, &seen); err != nil {
		t.Fatal(err)
	}
	if seen.Spec.ServiceAccountName != "default" {
		t.Errorf("the webhook saw serviceAccountName %q, want default", seen.Spec.ServiceAccountName)
	}
	if p := seen.Spec.Priority; p == nil || *p != 0 || seen.Spec.PreemptionPolicy == nil || *seen.Spec.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("the webhook saw priority %v, policy %v; want 0, PreemptLowerPriority", p, seen.Spec.PreemptionPolicy)
	}
	if len(seen.Spec.Volumes) != 1 || seen.Spec.Volumes[0].Projected == nil {
		t.Errorf("the webhook saw volumes %v, want the projected token", seen.Spec.Volumes)
	}
	if q := seen.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]; q.String() != "200m" {
		t.Errorf("the webhook saw a cpu limit %q, want the LimitRange's 200m", q.String())
	}
	if seen.Annotations["kubernetes.io/limit-ranger"] != "LimitRanger plugin set: cpu request for container c; cpu limit for container c" {
		t.Errorf("the webhook saw annotations %v", seen.Annotations)
	}
}
