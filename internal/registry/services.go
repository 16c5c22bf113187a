package registry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
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

func prepareService(o runtime.Object) {
	s := o.(*corev1.Service)
	s.Status = corev1.ServiceStatus{}
}

// prepareServiceUpdate keeps the allocated addresses and node ports that an
// update leaves out (kubectl apply sends none).
func prepareServiceUpdate(o, old runtime.Object) {
	s, prev := o.(*corev1.Service), old.(*corev1.Service)
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

// allocateServiceIPs gives a new service its cluster IP (and node ports)
// from the free addresses of ServiceClusterIPRange. The store's allocation
// lock is held until done is called, so two creates never pick the same
// address; several servers on one etcd could (upstream reserves addresses
// as IPAddress objects, which regis does not write yet).
func allocateServiceIPs(ctx context.Context, s *Store, obj runtime.Object) (func(bool), error) {
	svc := obj.(*corev1.Service)
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return func(bool) {}, nil
	}
	s.allocMu.Lock()
	done := func(bool) { s.allocMu.Unlock() }
	list, err := s.List(ctx, "", &metainternalversion.ListOptions{})
	if err != nil {
		done(false)
		return nil, err
	}
	usedIPs, usedPorts := map[string]bool{}, map[int32]bool{}
	for _, other := range list.(*corev1.ServiceList).Items {
		for _, ip := range other.Spec.ClusterIPs {
			usedIPs[ip] = true
		}
		usedIPs[other.Spec.ClusterIP] = true
		for _, p := range other.Spec.Ports {
			usedPorts[p.NodePort] = true
		}
	}
	if svc.Spec.IPFamilyPolicy == nil {
		policy := corev1.IPFamilyPolicySingleStack
		svc.Spec.IPFamilyPolicy = &policy
	}
	if len(svc.Spec.IPFamilies) == 0 {
		svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	path := field.NewPath("spec", "clusterIPs")
	switch ip := svc.Spec.ClusterIP; {
	case ip == corev1.ClusterIPNone:
		svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
	case ip == "":
		free := freeIPs(usedIPs)
		if len(free) == 0 {
			done(false)
			return nil, apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: range is full"))
		}
		svc.Spec.ClusterIP = free[rand.IntN(len(free))]
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	default:
		addr, err := netip.ParseAddr(ip)
		switch {
		case err != nil || !ServiceClusterIPRange.Contains(addr):
			done(false)
			return nil, apierrors.NewInvalid(s.r.GroupVersionKind().GroupKind(), svc.Name, field.ErrorList{field.Invalid(path, []string{ip},
				fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, ip, ServiceClusterIPRange))})
		case usedIPs[ip]:
			done(false)
			return nil, apierrors.NewInvalid(s.r.GroupVersionKind().GroupKind(), svc.Name, field.ErrorList{field.Invalid(path, []string{ip},
				fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", ip))})
		}
		svc.Spec.ClusterIPs = []string{ip}
	}
	if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort != 0 {
				usedPorts[p.NodePort] = true
				continue
			}
			for n := 0; n < 4*(NodePortMax-NodePortMin); n++ {
				port := int32(NodePortMin + rand.IntN(NodePortMax-NodePortMin+1))
				if !usedPorts[port] {
					p.NodePort = port
					usedPorts[port] = true
					break
				}
			}
		}
	}
	return done, nil
}

// freeIPs lists the addresses of ServiceClusterIPRange that are not used,
// without the network, the first (the kubernetes service's) and the
// broadcast address.
func freeIPs(used map[string]bool) []string {
	var out []string
	first := ServiceClusterIPRange.Addr().Next()
	for a := first.Next(); ServiceClusterIPRange.Contains(a); a = a.Next() {
		if !ServiceClusterIPRange.Contains(a.Next()) {
			break // broadcast
		}
		if !used[a.String()] {
			out = append(out, a.String())
		}
	}
	return out
}
