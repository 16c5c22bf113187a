package server_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
)

// TestAuditPodSecurityAnnotations: PodSecurity's audit annotations reach
// the request's audit event, as upstream's (enforce-policy on every
// evaluated pod, audit-violations under an audit level).
func TestAuditPodSecurityAnnotations(t *testing.T) {
	s := startAudited(t)
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "psa-audit",
		Labels: map[string]string{"pod-security.kubernetes.io/audit": "restricted"}}}
	if _, err := s.admin.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := s.admin.CoreV1().Pods("psa-audit").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	evs := waitEvents(t, s.log, func(ev *auditv1.Event) bool {
		return ev.Verb == "create" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "pods" && ev.ObjectRef.Namespace == "psa-audit"
	}, auditv1.StageResponseComplete)
	var got map[string]string
	for _, ev := range evs {
		if ev.Stage == auditv1.StageResponseComplete {
			got = ev.Annotations
		}
	}
	if got["pod-security.kubernetes.io/enforce-policy"] != "privileged:latest" || got["pod-security.kubernetes.io/audit-violations"] == "" {
		t.Errorf("annotations %v, want enforce-policy privileged:latest and audit-violations", got)
	}
}
