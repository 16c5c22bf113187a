package builtin

import (
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestPortsQuiet checks, on random pods, that portsQuiet is true only
// where the port warnings say nothing, and that it is true for pods
// whose ports are all distinct.
func TestPortsQuiet(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	containers := func() []corev1.Container {
		cs := make([]corev1.Container, r.IntN(4))
		for i := range cs {
			for range r.IntN(5) {
				cs[i].Ports = append(cs[i].Ports, corev1.ContainerPort{
					Name: pick("", "a", "b", "c"), ContainerPort: int32(80 + r.IntN(8)), HostPort: int32(80 * r.IntN(2)),
					HostIP: pick("", "", "", "10.0.0.1"), Protocol: corev1.Protocol(pick("TCP", "UDP")),
				})
			}
		}
		return cs
	}
	quiet, loud := 0, 0
	for range 20000 {
		spec := &corev1.PodSpec{InitContainers: containers(), Containers: containers()}
		for _, c := range containers() {
			spec.EphemeralContainers = append(spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c)})
		}
		w := append(portWarnings(spec, field.NewPath("spec")), portNameWarnings(spec, field.NewPath("spec"))...)
		if portsQuiet(spec) {
			quiet++
			if len(w) != 0 {
				t.Fatalf("portsQuiet, yet the warnings %q for %+v", w, spec)
			}
		} else {
			loud++
		}
	}
	if quiet < 1000 || loud < 1000 {
		t.Fatalf("%d quiet and %d other pods: the cases do not cover both", quiet, loud)
	}
}
