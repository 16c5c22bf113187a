package builtin

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func resources(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

// TestLimitRangerMessages: upstream's messages, at milli precision and
// beyond it (values that would overflow in milli-units).
func TestLimitRangerMessages(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"min no request", minConstraint("Container", "cpu", resource.MustParse("100m"), nil, nil),
			"minimum cpu usage per Container is 100m.  No request is specified"},
		{"min request", minConstraint("Container", "cpu", resource.MustParse("100m"), resources("cpu", "99m"), nil),
			"minimum cpu usage per Container is 100m, but request is 99m"},
		{"max no limit", maxConstraint("Pod", "memory", resource.MustParse("1Gi"), resources("memory", "1Mi"), nil),
			"maximum memory usage per Pod is 1Gi.  No limit is specified"},
		{"max request", maxConstraint("Container", "cpu", resource.MustParse("1"), resources("cpu", "2"), resources("cpu", "1")),
			"maximum cpu usage per Container is 1, but request is 2"},
		{"max beyond milli", maxRequestConstraint("PersistentVolumeClaim", "storage", resource.MustParse("8E"), resources("storage", "9E")),
			"maximum storage usage per PersistentVolumeClaim is 8E, but request is 9E"},
		{"ratio", limitRequestRatioConstraint("Container", "memory", resource.MustParse("1500m"), resources("memory", "1Gi"), resources("memory", "2Gi")),
			"memory max limit to request ratio per Container is 1500m, but provided ratio is 2.000000"},
		{"ratio no limit", limitRequestRatioConstraint("Pod", "cpu", resource.MustParse("2"), resources("cpu", "1"), nil),
			"cpu max limit to request ratio per Pod is 2, but no limit is specified or limit is 0"},
	} {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, c.err, c.want)
		}
	}
	if err := minConstraint("Container", "cpu", resource.MustParse("100m"), resources("cpu", "100m"), resources("cpu", "1")); err != nil {
		t.Errorf("at the min: %v", err)
	}
}

// TestPodResourceTotal: upstream's podRequests: containers and sidecars
// add up, a regular init container counts with the sidecars before it,
// the largest wins, pod-level cpu and memory replace the sum.
func TestPodResourceTotal(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	req := func(mem string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: resources("memory", mem)}
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{
			{Name: "sidecar", RestartPolicy: &always, Resources: req("100Mi")},
			{Name: "big-init", Resources: req("1Gi")},
		},
		Containers: []corev1.Container{{Name: "a", Resources: req("200Mi")}, {Name: "b", Resources: req("300Mi")}},
	}}
	requests := func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests }
	// containers and sidecar: 600Mi; the init container with the sidecar: 1124Mi.
	if got := podResourceTotal(pod, requests)[corev1.ResourceMemory]; got.Cmp(resource.MustParse("1124Mi")) != 0 {
		t.Errorf("memory %s, want 1124Mi", got.String())
	}
	pod.Spec.Resources = &corev1.ResourceRequirements{Requests: resources("memory", "2Gi", "example.com/gpu", "1")}
	total := podResourceTotal(pod, requests)
	if got := total[corev1.ResourceMemory]; got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("memory with pod-level resources %s, want 2Gi", got.String())
	}
	if _, ok := total["example.com/gpu"]; ok {
		t.Errorf("pod-level resources other than cpu and memory count: %v", total)
	}
}

// TestMergePodResourceRequirements: the defaults a container lacks, and the
// annotation naming them (requests, then limits; containers, then init
// containers).
func TestMergePodResourceRequirements(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "i"}},
		Containers:     []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Limits: resources("cpu", "1")}}},
	}}
	mergePodResourceRequirements(pod, corev1.ResourceRequirements{Requests: resources("cpu", "100m", "memory", "1Mi"), Limits: resources("cpu", "500m")})
	const want = "LimitRanger plugin set: cpu, memory request for container c; cpu, memory request for init container i; cpu limit for init container i"
	if got := pod.Annotations[limitRangerAnnotation]; got != want {
		t.Errorf("annotation %q, want %q", got, want)
	}
	if got := pod.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]; got.String() != "1" {
		t.Errorf("the container's own limit became %s", got.String())
	}
}
