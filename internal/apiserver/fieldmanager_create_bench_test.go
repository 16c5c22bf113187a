package apiserver

import (
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// BenchmarkTrackUpdateCreate is the managedFields tracking of a create
// (trackUpdate with no live object), as the create handler calls it,
// with the CPU the process spends per call (getrusage; GC included):
//
//	go test ./internal/apiserver -run '^$' -bench TrackUpdateCreate -count 5
func BenchmarkTrackUpdateCreate(b *testing.B) {
	reg := trackRegistry(b)
	small := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	for _, c := range []struct {
		name     string
		resource schema.GroupVersionResource
		obj      runtime.Object
	}{
		{"pod-small", podsGVR, small},
		{"pod-big", podsGVR, bigPod()},
	} {
		st, ok := reg.Lookup(c.resource)
		if !ok {
			b.Fatalf("no row %v", c.resource)
		}
		trackUpdate(st, "", nil, c.obj.DeepCopyObject(), "m") // the field manager, made once
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			before := processCPU(b)
			for b.Loop() {
				trackUpdate(st, "", nil, c.obj.DeepCopyObject(), "kubectl-create")
			}
			b.ReportMetric(float64((processCPU(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
