package builtin

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ServiceClusterIPRange is kube-apiserver's default
// --service-cluster-ip-range; its first address is the kubernetes
// service's.
var ServiceClusterIPRange = netip.MustParsePrefix("10.0.0.0/24")

// NodePortRange is kube-apiserver's default --service-node-port-range.
const (
	NodePortMin = 30000
	NodePortMax = 32767
)

// prepareService clears the status and sets the IP family fields as
// upstream's allocator does before validation, also on a dry run.
func prepareService(o runtime.Object) {
	s := o.(*corev1.Service)
	s.Status = corev1.ServiceStatus{}
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	if s.Spec.IPFamilyPolicy == nil {
		s.Spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicySingleStack)
	}
	if len(s.Spec.IPFamilies) == 0 {
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
}

// prepareServiceUpdate keeps the allocated addresses and node ports that an
// update leaves out (kubectl apply sends none).
func prepareServiceUpdate(o, old runtime.Object) {
	s, prev := o.(*corev1.Service), old.(*corev1.Service)
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		s.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
	if s.Spec.ClusterIP == "" && s.Spec.Type != corev1.ServiceTypeExternalName {
		s.Spec.ClusterIP = prev.Spec.ClusterIP
		s.Spec.ClusterIPs = prev.Spec.ClusterIPs
	}
	if len(s.Spec.ClusterIPs) == 0 && s.Spec.ClusterIP == prev.Spec.ClusterIP {
		s.Spec.ClusterIPs = prev.Spec.ClusterIPs
	}
	if s.Spec.IPFamilyPolicy == nil {
		s.Spec.IPFamilyPolicy = prev.Spec.IPFamilyPolicy
	}
	if len(s.Spec.IPFamilies) == 0 {
		s.Spec.IPFamilies = prev.Spec.IPFamilies
	}
	for i := range s.Spec.Ports {
		p := &s.Spec.Ports[i]
		if p.NodePort != 0 {
			continue
		}
		for _, q := range prev.Spec.Ports {
			if q.Port == p.Port && q.Protocol == p.Protocol {
				p.NodePort = q.NodePort
			}
		}
	}
}
