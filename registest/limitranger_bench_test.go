package registest_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

// BenchmarkPodCreateBuiltinAdmission is a dry-run create of a pod with the
// built-in admission plugins (LimitRanger with one LimitRange,
// ServiceAccount, Priority) on, and with them disabled: what they cost a
// pod create, over HTTPS in one process.
func BenchmarkPodCreateBuiltinAdmission(b *testing.B) {
	for _, bc := range []struct {
		name    string
		disable []string
	}{{"on", nil}, {"off", []string{"LimitRanger", "ServiceAccount", "Priority"}}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := b.Context()
			srv, err := registest.Start(ctx, registest.Options{DisableAdmissionPlugins: bc.disable})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Stop()
			cs := kubernetes.NewForConfigOrDie(srv.Config())
			if _, err := cs.CoreV1().LimitRanges("default").Create(ctx, &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr"},
				Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer,
					Default: quantities("cpu", "500m", "memory", "256Mi"), Max: quantities("cpu", "2")}}}}, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			pod := limitRangerPod("p", nil, nil)
			dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
			for b.Loop() {
				if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, dry); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
