package registest_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

func limitRangerPod(name string, limits, requests corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Image: "busybox", Resources: corev1.ResourceRequirements{Limits: limits, Requests: requests}}}}}
}

func quantities(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

// TestLimitRanger: upstream's LimitRanger admission plugin: a pod gets the
// namespace's container defaults (and the annotation saying so); pods and
// claims that break a min, max or ratio are 403 with upstream's message;
// --disable-admission-plugins=LimitRanger turns it off.
func TestLimitRanger(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		opts := registest.Options{}
		if disabled {
			opts.DisableAdmissionPlugins = []string{"LimitRanger"}
		}
		srv, err := registest.Start(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Stop()
		cs := kubernetes.NewForConfigOrDie(srv.Config())
		ctx := t.Context()
		if _, err := cs.CoreV1().LimitRanges("default").Create(ctx, &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr"},
			Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
				{Type: corev1.LimitTypeContainer, Default: quantities("cpu", "500m", "memory", "256Mi"), DefaultRequest: quantities("cpu", "100m"),
					Max: quantities("cpu", "1"), MaxLimitRequestRatio: quantities("cpu", "10")},
				{Type: corev1.LimitTypePod, Max: quantities("memory", "1Gi")},
				{Type: corev1.LimitTypePersistentVolumeClaim, Min: quantities("storage", "1Gi"), Max: quantities("storage", "10Gi")},
			}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pods := cs.CoreV1().Pods("default")
		got, err := pods.Create(ctx, limitRangerPod("defaults", nil, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := got.Spec.Containers[0].Resources
		if disabled {
			if len(r.Limits) != 0 || len(r.Requests) != 0 || got.Annotations["kubernetes.io/limit-ranger"] != "" {
				t.Errorf("LimitRanger disabled: the pod got %v, %v", r, got.Annotations)
			}
			continue
		}
		if r.Limits.Cpu().String() != "500m" || r.Requests.Cpu().String() != "100m" || r.Requests.Memory().String() != "256Mi" ||
			got.Annotations["kubernetes.io/limit-ranger"] != "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c" {
			t.Errorf("the pod got %v, %v; want the LimitRange's defaults", r, got.Annotations)
		}
		for _, c := range []struct {
			pod  *corev1.Pod
			want string
		}{
			{limitRangerPod("max", quantities("cpu", "2"), nil), `pods "max" is forbidden: maximum cpu usage per Container is 1, but limit is 2`},
			{limitRangerPod("ratio", quantities("cpu", "1"), quantities("cpu", "50m")), `pods "ratio" is forbidden: cpu max limit to request ratio per Container is 10, but provided ratio is 20.000000`},
			{limitRangerPod("pod-max", quantities("memory", "2Gi"), nil), `pods "pod-max" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 2Gi`},
		} {
			_, err := pods.Create(ctx, c.pod, metav1.CreateOptions{})
			if !apierrors.IsForbidden(err) || err.Error() != c.want {
				t.Errorf("pod %s: %v, want %s", c.pod.Name, err, c.want)
			}
		}
		claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "small"}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: quantities("storage", "500Mi")}}}
		_, err = cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim, metav1.CreateOptions{})
		if want := `persistentvolumeclaims "small" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi`; !apierrors.IsForbidden(err) || err.Error() != want {
			t.Errorf("small claim: %v, want %s", err, want)
		}
	}
}

// TestPriorityClassGlobalDefault: upstream's Priority plugin lets one
// PriorityClass only be the global default.
func TestPriorityClassGlobalDefault(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	ctx := t.Context()
	pcs := cs.SchedulingV1().PriorityClasses()
	class := func(name string, def bool) *schedulingv1.PriorityClass {
		return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: 10, GlobalDefault: def}
	}
	first, err := pcs.Create(ctx, class("first", true), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const want = `priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass first is already marked as default. Only one default can exist`
	for i := 0; ; i++ { // the classes are read from the watch cache
		_, err = pcs.Create(ctx, class("second", true), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil || i == 100 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("second default: %v, want %s", err, want)
	}
	second, err := pcs.Create(ctx, class("second", false), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second.GlobalDefault = true
	if _, err := pcs.Update(ctx, second, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("second made default: %v, want %s", err, want)
	}
	first.Labels = map[string]string{"a": "b"}
	if _, err := pcs.Update(ctx, first, metav1.UpdateOptions{}); err != nil {
		t.Errorf("the default class's own update: %v", err)
	}
}
