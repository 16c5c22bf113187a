package apiserver_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// BenchmarkCreatePodCPU creates pods through client-go and HTTP, as
// BenchmarkCreate, and reports besides the time the CPU the process
// spends per create (client, server and the embedded etcd together,
// from getrusage), which a loaded machine disturbs less than the time:
//
//	go test ./internal/apiserver -run '^$' -bench CreatePodCPU -benchtime 2000x -count 5
func BenchmarkCreatePodCPU(b *testing.B) {
	s := startServer(b)
	cs := s.clientset(b)
	ctx := b.Context()
	runs := 0
	for _, c := range []struct {
		name string
		pod  func(name string) *corev1.Pod
	}{{"small", testPod}, {"deployment-pod", deploymentPod}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			// Names new to the server in every run (-count runs them
			// again on the same server).
			runs++
			i := 0
			before := cpuTime(b)
			for b.Loop() {
				if _, err := cs.CoreV1().Pods("default").Create(ctx, c.pod(fmt.Sprint(c.name, "-", runs, "-", i)), metav1.CreateOptions{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// deploymentPod is a pod as a deployment's replica set makes it: two
// containers with ports, environment, resources, probes and mounts, the
// owner reference, a volume.
func deploymentPod(name string) *corev1.Pod {
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}, PeriodSeconds: 5}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web", "pod-template-hash": "5d4f8c7b9"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d4f8c7b9", UID: "8e1f7f34-5b1e-4f0e-9d47-3c5a9f1e2b10"}}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "web", Image: "registry.example.com/web:1.2.3",
				Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}},
				Env:            []corev1.EnvVar{{Name: "MODE", Value: "production"}, {Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
				Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": resource.MustParse("1"), "memory": resource.MustParse("512Mi")}, Requests: corev1.ResourceList{"cpu": resource.MustParse("100m"), "memory": resource.MustParse("128Mi")}},
				VolumeMounts:   []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}},
				LivenessProbe:  probe,
				ReadinessProbe: probe,
			}, {
				Name: "proxy", Image: "registry.example.com/proxy:4.5", Args: []string{"--upstream=127.0.0.1:8080"},
				Ports: []corev1.ContainerPort{{Name: "https", ContainerPort: 8443}},
			}},
			Volumes: []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		},
	}
}
