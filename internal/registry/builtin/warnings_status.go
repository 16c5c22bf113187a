package builtin

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The warnings of writes to /status: upstream's status strategies warn
// only about non-canonical addresses; all the others return none.

// podStatusWarnings is podStatusStrategy.WarningsOnUpdate: the pod's and
// its host's IPs.
func podStatusWarnings(obj, _ runtime.Object) []string {
	st := &obj.(*corev1.Pod).Status
	var out []string
	for i, ip := range st.PodIPs {
		out = append(out, ipWarnings(field.NewPath("status", "podIPs").Index(i).Child("ip"), ip.IP)...)
	}
	for i, ip := range st.HostIPs {
		out = append(out, ipWarnings(field.NewPath("status", "hostIPs").Index(i).Child("ip"), ip.IP)...)
	}
	return out
}

// serviceStatusWarnings is serviceStatusStrategy.WarningsOnUpdate: the
// load balancer's ingress IPs, each at its ingress's path.
func serviceStatusWarnings(obj, _ runtime.Object) []string {
	var out []string
	path := field.NewPath("status", "loadBalancer", "ingress")
	for i, in := range obj.(*corev1.Service).Status.LoadBalancer.Ingress {
		if in.IP != "" {
			out = append(out, ipWarnings(path.Index(i), in.IP)...)
		}
	}
	return out
}

// ingressStatusWarnings is ingressStatusStrategy.WarningsOnUpdate, the
// same for an ingress.
func ingressStatusWarnings(obj, _ runtime.Object) []string {
	var out []string
	path := field.NewPath("status", "loadBalancer", "ingress")
	for i, in := range obj.(*networkingv1.Ingress).Status.LoadBalancer.Ingress {
		if in.IP != "" {
			out = append(out, ipWarnings(path.Index(i), in.IP)...)
		}
	}
	return out
}
