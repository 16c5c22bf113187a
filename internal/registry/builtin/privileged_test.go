package builtin

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/registry"
)

func TestAllowPrivileged(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "busybox", ImagePullPolicy: corev1.PullAlways,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			SecurityContext:          &corev1.SecurityContext{Privileged: ptr(true)}}},
		RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst}}
	podsRow := func(rs []*registry.Resource) *registry.Resource {
		for _, r := range rs {
			if r.Group == "" && r.Resource == "pods" {
				return r
			}
		}
		t.Fatal("no pods row")
		return nil
	}
	privileged := func(r *registry.Resource) bool {
		for _, e := range r.Validate(pod) {
			if e.Field == "spec.containers[0].securityContext.privileged" {
				return true
			}
		}
		return false
	}
	if !privileged(podsRow(Resources())) {
		t.Error("a privileged container admitted without --allow-privileged")
	}
	rs := Resources()
	AllowPrivileged(rs)
	if privileged(podsRow(rs)) {
		t.Error("a privileged container refused with --allow-privileged")
	}
}
