package bench

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// benchLabel marks every pod of a run (and selects them).
const benchLabel = "regis.dev/bench"

// noScheduler is the schedulerName of the bench's pods: no scheduler of a
// real cluster picks them, no kubelet runs them, they delete at once.
const noScheduler = "regis-bench-no-scheduler"

// newPod is pod i of a run: a pod of a realistic size (about 1.5 KiB of
// JSON; its stored size is measured in etcd), the shape of a Deployment's
// pod, that no scheduler schedules.
func newPod(run string, i int) *corev1.Pod {
	name := podName(i)
	env := make([]corev1.EnvVar, 0, 6)
	for j := range 6 {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("BENCH_SETTING_%d", j), Value: fmt.Sprintf("value-%d-%d", i, j)})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				benchLabel:                  run,
				"app.kubernetes.io/name":    "bench",
				"app.kubernetes.io/part-of": "regis-bench",
				"pod-template-hash":         "5d8f7c9b6",
			},
			Annotations: map[string]string{
				"regis.dev/bench-index":             fmt.Sprint(i),
				"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z",
			},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:    "app",
				Image:   "registry.k8s.io/pause:3.10",
				Command: []string{"/pause"},
				Args:    []string{"--listen=:8080", "--log-level=info"},
				Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Env:     env,
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 10,
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/bench", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{
				Name:         "config",
				VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bench-config"}}},
			}},
			NodeSelector:  map[string]string{"kubernetes.io/os": "linux"},
			SchedulerName: noScheduler,
		},
	}
}

// podName is the name of pod i of a run.
func podName(i int) string { return fmt.Sprintf("bench-%05d", i) }
