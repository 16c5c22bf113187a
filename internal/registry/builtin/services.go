package builtin

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/regis-dev/regis/internal/registry"
)

// ServiceNetwork is where services get their cluster IPs and node ports:
// kube-apiserver's --service-cluster-ip-range and --service-node-port-range.
type ServiceNetwork struct {
	// ClusterIPRange holds the cluster IPs (a masked prefix); its first
	// address is the kubernetes service's.
	ClusterIPRange netip.Prefix
	// NodePortBase is the first node port, NodePortSize how many there are.
	NodePortBase, NodePortSize int
}

// DefaultServiceNetwork is kube-apiserver's: 10.0.0.0/24 and 30000-32767.
func DefaultServiceNetwork() ServiceNetwork {
	return ServiceNetwork{ClusterIPRange: netip.MustParsePrefix("10.0.0.0/24"), NodePortBase: 30000, NodePortSize: 2768}
}

// KubernetesServiceIP is the cluster IP of the default/kubernetes service:
// the first address of the range, as upstream's ServiceIPRange.
func (n ServiceNetwork) KubernetesServiceIP() netip.Addr { return n.ClusterIPRange.Addr().Next() }

// hasNodePort tells whether p is in the node port range.
func (n ServiceNetwork) hasNodePort(p int32) bool {
	return int(p) >= n.NodePortBase && int(p) < n.NodePortBase+n.NodePortSize
}

// nodePortRangeSpec is the range field of the bitmap, and the range in
// errors ("30000-32767").
func (n ServiceNetwork) nodePortRangeSpec() string {
	return fmt.Sprintf("%d-%d", n.NodePortBase, n.NodePortBase+n.NodePortSize-1)
}

// UseServiceNetwork makes the services of rs allocate from n (the rows
// of Resources allocate from DefaultServiceNetwork).
func UseServiceNetwork(rs []*registry.Resource, n ServiceNetwork) {
	for _, r := range rs {
		if r.Group == "" && r.Resource == "services" {
			r.Allocate, r.AfterDelete = n.allocateServiceIPs, n.releaseService
		}
	}
}

// prepareService clears the status and sets the IP family fields as
// upstream's allocator does before validation, also on a dry run.
func prepareService(o runtime.Object) {
	s := o.(*corev1.Service)
	s.Status = corev1.ServiceStatus{}
	// Upstream's normalizeClusterIPs: a client that sends clusterIP alone.
	if s.Spec.ClusterIP != "" && len(s.Spec.ClusterIPs) == 0 {
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	}
	initIPFamilies(s, nil)
}

// prepareServiceUpdate keeps the allocated addresses and node ports that an
// update leaves out (kubectl apply sends none), then sets the IP family
// fields.
func prepareServiceUpdate(o, old runtime.Object) {
	s, prev := o.(*corev1.Service), old.(*corev1.Service)
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		s.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
	if len(prev.Spec.ClusterIPs) > 0 && len(s.Spec.ClusterIPs) == 0 && s.Spec.ClusterIP == prev.Spec.ClusterIP {
		s.Spec.ClusterIPs = prev.Spec.ClusterIPs
	}
	patchAllocatedValues(s, prev)
	initIPFamilies(s, prev)
}

// patchAllocatedValues is upstream's: an update that leaves out what was
// allocated keeps it, while the service still needs it. Node ports are
// matched by port name and only patched in when no other port uses them.
func patchAllocatedValues(s, prev *corev1.Service) {
	if s.Spec.Type != corev1.ServiceTypeExternalName && prev.Spec.Type != corev1.ServiceTypeExternalName {
		if s.Spec.ClusterIP == "" {
			s.Spec.ClusterIP = prev.Spec.ClusterIP
		}
		if len(s.Spec.ClusterIPs) == 0 && len(prev.Spec.ClusterIPs) > 0 {
			s.Spec.ClusterIPs = prev.Spec.ClusterIPs
		}
	}
	if needsNodePort(prev) && needsNodePort(s) {
		used := nodePortsOf(prev).Intersection(nodePortsOf(s))
		byName := map[string]int32{}
		for _, p := range prev.Spec.Ports {
			byName[p.Name] = p.NodePort
		}
		for i := range s.Spec.Ports {
			p := &s.Spec.Ports[i]
			if p.NodePort == 0 && !used.Has(byName[p.Name]) {
				p.NodePort = byName[p.Name]
			}
		}
	}
	if needsHealthCheck(prev) && needsHealthCheck(s) && s.Spec.HealthCheckNodePort == 0 {
		s.Spec.HealthCheckNodePort = prev.Spec.HealthCheckNodePort
	}
}

// needsNodePort is upstream's: NodePort and LoadBalancer services.
func needsNodePort(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// needsHealthCheck is upstream's NeedsHealthCheck: a load balancer whose
// external traffic policy is Local.
func needsHealthCheck(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// allocatesNodePorts is upstream's shouldAllocateNodePorts: every node
// port service, and load balancers unless allocateLoadBalancerNodePorts
// is false.
func allocatesNodePorts(s *corev1.Service) bool {
	switch s.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return s.Spec.AllocateLoadBalancerNodePorts == nil || *s.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

func nodePortsOf(s *corev1.Service) sets.Set[int32] {
	used := sets.New[int32]()
	for _, p := range s.Spec.Ports {
		if p.NodePort != 0 {
			used.Insert(p.NodePort)
		}
	}
	return used
}

// initIPFamilies is the part of upstream's initIPFamilyFields that sets
// fields, for regis's single-stack IPv4 cluster; the errors it finds are
// validateIPFamilies'. prev is nil on create.
func initIPFamilies(s, prev *corev1.Service) {
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	if s.Spec.IPFamilyPolicy == nil {
		switch {
		case prev != nil && prev.Spec.IPFamilyPolicy != nil:
			s.Spec.IPFamilyPolicy = prev.Spec.IPFamilyPolicy
		case headlessWithoutSelector(s):
			s.Spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicyRequireDualStack)
		default:
			s.Spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicySingleStack)
		}
	}
	single := *s.Spec.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack
	if prev != nil && single && sameFamilies(s, prev) && len(s.Spec.IPFamilies) > 1 {
		s.Spec.IPFamilies = s.Spec.IPFamilies[:1]
	}
	// Families are inferred from the cluster IPs given; only IPv4 is
	// configured, so an IPv6 address is left for validation to refuse.
	for i, ip := range s.Spec.ClusterIPs {
		if ip == corev1.ClusterIPNone {
			break
		}
		if i >= len(s.Spec.IPFamilies) {
			if familyOf(ip) == corev1.IPv6Protocol {
				return // upstream stops at this error
			}
			s.Spec.IPFamilies = append(s.Spec.IPFamilies, corev1.IPv4Protocol)
		}
	}
	if len(s.Spec.IPFamilies) == 0 {
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	// A headless service without a selector may have both families, even
	// on a single-stack cluster.
	if headlessWithoutSelector(s) && len(s.Spec.IPFamilies) == 1 && !single {
		other := corev1.IPv6Protocol
		if s.Spec.IPFamilies[0] == corev1.IPv6Protocol {
			other = corev1.IPv4Protocol
		}
		s.Spec.IPFamilies = append(s.Spec.IPFamilies, other)
	}
}

func headlessWithoutSelector(s *corev1.Service) bool {
	return s.Spec.ClusterIP == corev1.ClusterIPNone && len(s.Spec.Selector) == 0
}

func sameFamilies(a, b *corev1.Service) bool {
	if len(a.Spec.IPFamilies) != len(b.Spec.IPFamilies) {
		return false
	}
	for i, f := range a.Spec.IPFamilies {
		if b.Spec.IPFamilies[i] != f {
			return false
		}
	}
	return true
}

// familyOf returns the family of an address, "" when it is none.
func familyOf(ip string) corev1.IPFamily {
	a, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		return ""
	case a.Is4() || a.Is4In6():
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}
