package quota

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func container(name string, req, lim corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}
}

// TestPodUsage: containers summed, init containers as their peak with
// the sidecars started before them, overhead added, terminal pods
// counted as objects only, as upstream's PodUsageFunc.
func TestPodUsage(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	sidecar := container("side", rl("cpu", "100m"), nil)
	sidecar.RestartPolicy = &always
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		Containers:     []corev1.Container{container("a", rl("cpu", "200m", "memory", "1Gi"), rl("memory", "2Gi")), container("b", rl("cpu", "300m"), nil)},
		InitContainers: []corev1.Container{sidecar, container("init", rl("cpu", "900m"), nil)},
		Overhead:       rl("cpu", "10m"),
	}}
	got, err := podEvaluator{}.usage(pod)
	if err != nil {
		t.Fatal(err)
	}
	// containers 500m + sidecar 100m = 600m; init peak 900m + 100m = 1000m; + 10m overhead
	want := rl("count/pods", "1", "pods", "1", "cpu", "1010m", "requests.cpu", "1010m", "memory", "1Gi", "requests.memory", "1Gi", "limits.memory", "2Gi")
	if !equal(got, want) {
		t.Errorf("usage %v\nwant %v", got, want)
	}
	pod.Status.Phase = corev1.PodSucceeded
	if got, _ := (podEvaluator{}).usage(pod); !equal(got, rl("count/pods", "1")) {
		t.Errorf("terminal pod: %v", got)
	}
	pod.Status.Phase = ""
	past := metav1.NewTime(time.Now().Add(-time.Minute))
	grace := int64(30)
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &past, &grace
	if got, _ := (podEvaluator{}).usage(pod); !equal(got, rl("count/pods", "1")) {
		t.Errorf("pod past its grace period: %v", got)
	}
}

func TestPodScopes(t *testing.T) {
	ads := int64(10)
	best := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("a", nil, nil)}, PriorityClassName: "high"}}
	burst := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("a", rl("cpu", "1"), nil)}, ActiveDeadlineSeconds: &ads}}
	exists := func(s corev1.ResourceQuotaScope) corev1.ScopedResourceSelectorRequirement {
		return corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists}
	}
	in := corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn, Values: []string{"high"}}
	for _, c := range []struct {
		sel        corev1.ScopedResourceSelectorRequirement
		best, burs bool
	}{
		{exists(corev1.ResourceQuotaScopeBestEffort), true, false},
		{exists(corev1.ResourceQuotaScopeNotBestEffort), false, true},
		{exists(corev1.ResourceQuotaScopeTerminating), false, true},
		{exists(corev1.ResourceQuotaScopeNotTerminating), true, false},
		{exists(corev1.ResourceQuotaScopePriorityClass), true, false},
		{in, true, false},
	} {
		b, _ := podEvaluator{}.matchesScope(c.sel, best)
		u, _ := podEvaluator{}.matchesScope(c.sel, burst)
		if b != c.best || u != c.burs {
			t.Errorf("%s %s: best effort %v, burstable %v", c.sel.ScopeName, c.sel.Operator, b, u)
		}
	}
}

func TestServiceAndClaimUsage(t *testing.T) {
	no := false
	lb := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: &no,
		Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}, {Port: 443}}}}
	got, _ := serviceEvaluator{}.usage(lb)
	if !equal(got, rl("count/services", "1", "services", "1", "services.loadbalancers", "1", "services.nodeports", "1")) {
		t.Errorf("load balancer: %v", got)
	}
	class := "fast"
	pvc := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class,
		Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", "1.5")}}}
	got, _ = pvcEvaluator{}.usage(pvc)
	want := rl("count/persistentvolumeclaims", "1", "persistentvolumeclaims", "1", "requests.storage", "2",
		"fast.storageclass.storage.k8s.io/persistentvolumeclaims", "1", "fast.storageclass.storage.k8s.io/requests.storage", "2")
	if !equal(got, want) {
		t.Errorf("claim: %v\nwant %v", got, want)
	}
	if m := (pvcEvaluator{}).matchingResources([]corev1.ResourceName{"gold.storageclass.storage.k8s.io/requests.storage", "pods"}); len(m) != 1 {
		t.Errorf("claim matching: %v", m)
	}
}

// TestCheckRequest: upstream's 403 messages, and the charge.
func TestCheckRequest(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}
	attrs := &registry.Attributes{Operation: registry.OpCreate, Object: cm, Namespace: "ns",
		Resource: corev1.SchemeGroupVersion.WithResource("configmaps")}
	e := evaluatorFor(schema.GroupResource{Resource: "configmaps"}, nil)
	q := corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q"}, Status: corev1.ResourceQuotaStatus{Hard: rl("configmaps", "2", "count/configmaps", "5")}}
	_, _, err := checkRequest([]corev1.ResourceQuota{q}, attrs, e, nil)
	if want := `configmaps "c" is forbidden: status unknown for quota: q, resources: configmaps,count/configmaps`; err == nil || err.Error() != want {
		t.Errorf("no usage: %v\nwant %s", err, want)
	}
	q.Status.Used = rl("configmaps", "1", "count/configmaps", "1")
	out, changed, err := checkRequest([]corev1.ResourceQuota{q}, attrs, e, nil)
	if err != nil || !changed || !equal(out[0].Status.Used, rl("configmaps", "2", "count/configmaps", "2")) {
		t.Fatalf("charge: %v %v %v", out, changed, err)
	}
	_, _, err = checkRequest(out, attrs, e, nil)
	if want := `configmaps "c" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=2, limited: configmaps=2`; err == nil || err.Error() != want {
		t.Errorf("exceeded: %v\nwant %s", err, want)
	}
	old := cm.DeepCopy()
	old.ResourceVersion = "7"
	if _, changed, err := checkRequest(out, &registry.Attributes{Operation: registry.OpUpdate, Object: cm, OldObject: old,
		Namespace: "ns", Resource: attrs.Resource}, e, nil); err != nil || changed {
		t.Errorf("update of a counted object: %v %v", changed, err)
	}
}
