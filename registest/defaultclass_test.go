package registest_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

// TestDefaultStorageClass: a claim without a class gets the default
// StorageClass, as with upstream's DefaultStorageClass admission plugin;
// one that asks for no class ("") keeps it.
func TestDefaultStorageClass(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	ctx := t.Context()
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "example.com/p",
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	claim := func(class *string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{GenerateName: "c-"}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: class,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		}}
	}
	pvcs := cs.CoreV1().PersistentVolumeClaims("default")
	var got *corev1.PersistentVolumeClaim
	for i := 0; i < 50; i++ { // the class is read from the watch cache
		if got, err = pvcs.Create(ctx, claim(nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if got.Spec.StorageClassName != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c := got.Spec.StorageClassName; c == nil || *c != "standard" {
		t.Errorf("claim without a class: class %v, want standard", c)
	}
	none := ""
	if got, err = pvcs.Create(ctx, claim(&none), metav1.CreateOptions{}); err != nil || *got.Spec.StorageClassName != "" {
		t.Errorf("claim asking for no class: %v, %v", got.Spec.StorageClassName, err)
	}
}
