package registest_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

// TestServiceAccountMountableSecrets: upstream's ServiceAccount plugin's
// validating half: an account annotated
// kubernetes.io/enforce-mountable-secrets limits its pods' secrets to those
// it lists; a mirror pod may reference no secret.
func TestServiceAccountMountableSecrets(t *testing.T) {
	ctx := t.Context()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "strict", Annotations: map[string]string{"kubernetes.io/enforce-mountable-secrets": "true"}},
		Secrets:    []corev1.ObjectReference{{Name: "allowed"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env := func(secret string) []corev1.EnvVar {
		return []corev1.EnvVar{{Name: "E", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: "k"}}}}
	}
	pod := func(name, sa, secret string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{ServiceAccountName: sa,
			Containers: []corev1.Container{{Name: "c", Image: "busybox", Env: env(secret)}}}}
	}
	pods := cs.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, pod("ok", "strict", "allowed"), metav1.CreateOptions{}); err != nil {
		t.Errorf("a listed secret: %v", err)
	}
	const want = `pods "other" is forbidden: container c with envVar E referencing secret.secretName="other" is not allowed because service account strict does not reference that secret`
	if _, err := pods.Create(ctx, pod("other", "strict", "other"), metav1.CreateOptions{}); !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("a secret the account does not list: %v, want %s", err, want)
	}
	if _, err := pods.Create(ctx, pod("free", "default", "other"), metav1.CreateOptions{}); err != nil {
		t.Errorf("an account that enforces nothing: %v", err)
	}
	mirror := pod("mirror", "", "other")
	mirror.Annotations = map[string]string{"kubernetes.io/config.mirror": "x"}
	const wantMirror = `pods "mirror" is forbidden: a mirror pod may not reference secrets`
	if _, err := pods.Create(ctx, mirror, metav1.CreateOptions{}); !apierrors.IsForbidden(err) || err.Error() != wantMirror {
		t.Errorf("a mirror pod with a secret: %v, want %s", err, wantMirror)
	}
}
