package registry_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/registry"
)

// Upstream's Store.Update calls the strategy it updates with: a write to
// /status gets the status strategy's WarningsOnUpdate (a pod's IPs), a
// write to the pod the pod strategy's, which does not look at the status.
func TestUpdateWarnings(t *testing.T) {
	f := newFixture(t)
	pods := f.pods(t)
	create(t, pods, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: testNS},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}})
	setIPs := edit(func(p *corev1.Pod) { p.Status.PodIPs = []corev1.PodIP{{IP: "2001:DB8::1"}} })
	tests := []struct {
		name string
		sub  registry.Subresource
		want []string
	}{
		{name: "status", sub: registry.StatusSubresource,
			want: []string{`status.podIPs[0].ip: IPv6 address "2001:DB8::1" should be in RFC 5952 canonical format ("2001:db8::1")`}},
		{name: "main", sub: registry.Main},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			ctx := registry.WithWarnings(t.Context(), func(msg string) { got = append(got, msg) })
			if _, _, err := pods.Update(ctx, testNS, "p", setIPs, registry.UpdateOptions{Subresource: tt.sub}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
