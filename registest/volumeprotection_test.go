package registest_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/regis-dev/regis/registest"
)

// TestVolumeProtection: a deleted claim goes once no scheduled pod uses
// it, a deleted volume once it is not bound, as kube-controller-manager's
// pvc-protection and pv-protection controllers remove their finalizers.
func TestVolumeProtection(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	ctx := t.Context()
	gone := func(what string, get func() error) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for err := get(); !apierrors.IsNotFound(err); err = get() {
			if time.Now().After(deadline) {
				t.Fatalf("%s still there 10s after its delete (%v)", what, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	claim := func(name string) {
		t.Helper()
		c, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
		}, metav1.CreateOptions{})
		if err != nil || len(c.Finalizers) == 0 {
			t.Fatalf("claim %s: %v %v", name, c, err)
		}
	}
	getClaim := func(name string) func() error {
		return func() error {
			_, err := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, name, metav1.GetOptions{})
			return err
		}
	}

	claim("free")
	if err := cs.CoreV1().PersistentVolumeClaims("default").Delete(ctx, "free", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gone("an unused claim", getClaim("free"))

	claim("used")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "user"}, Spec: corev1.PodSpec{NodeName: "n1",
		Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
		Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "used"}}}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().PersistentVolumeClaims("default").Delete(ctx, "used", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if c, err := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "used", metav1.GetOptions{}); err != nil || c.DeletionTimestamp == nil {
		t.Fatalf("a claim a running pod uses: %v %v, want it terminating", c, err)
	}
	if err := cs.CoreV1().Pods("default").Delete(ctx, "user", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	gone("a claim whose pod went", getClaim("used"))

	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv1"}, Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/pv1"}}}}
	if _, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().PersistentVolumes().Delete(ctx, "pv1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gone("an unbound volume", func() error {
		_, err := cs.CoreV1().PersistentVolumes().Get(ctx, "pv1", metav1.GetOptions{})
		return err
	})
}
