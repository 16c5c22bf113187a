package builtin

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Service cluster IPs are reserved as kube-apiserver 1.37 reserves them
// (MultiCIDRServiceAllocator, GA and locked): one networking.k8s.io/v1
// IPAddress per address, named by the address and pointing at its service,
// under /registry/ipaddresses/<ip>. Creating that object is the lock: etcd
// refuses a second create of the key, so several servers on one etcd never
// hand out the same address. Node ports are a RangeAllocation bitmap under
// /registry/ranges/servicenodeports, updated by compare-and-swap.

// IPAllocatorName is the managed-by label of the IPAddresses the service
// allocator writes (upstream's ipallocator.ControllerName).
const IPAllocatorName = "ipallocator.k8s.io"

// DefaultServiceCIDRName is the name of the ServiceCIDR kube-apiserver
// creates from --service-cluster-ip-range.
const DefaultServiceCIDRName = "kubernetes"

// NodePortRangeKey is the store key of the node port bitmap.
const NodePortRangeKey = "/ranges/servicenodeports"

// Internal returns the rows of what the built-in resources store but do
// not serve (registry.Config.Internal): the node port bitmap.
func Internal() []*registry.Resource { return []*registry.Resource{nodePortRange} }

// nodePortRange is the row of the node port bitmap's storage; it is not
// served (no REST API, as upstream's servicenodeportallocations).
var nodePortRange = &registry.Resource{Version: "v1", Resource: "servicenodeportallocations", Kind: "RangeAllocation",
	Prefix: "ranges", New: newFn[corev1.RangeAllocation], NewList: newFn[corev1.List], Internal: true}

var (
	ipAddressesGVR  = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ipaddresses"}
	serviceCIDRsGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "servicecidrs"}
)

// validateIPAddressName accepts a canonical IP address, as upstream's
// IPAddress validation.
func validateIPAddressName(name string, _ bool) []string {
	a, err := netip.ParseAddr(name)
	if err != nil {
		return []string{"must be a valid IP address"}
	}
	if a.String() != name {
		return []string{fmt.Sprintf("must be in canonical form (%q)", a.String())}
	}
	return nil
}

// newIPAddress is the object that reserves ip for svc.
func newIPAddress(ip netip.Addr, svc *corev1.Service) *networkingv1.IPAddress {
	family := corev1.IPv4Protocol
	if ip.Is6() && !ip.Is4In6() {
		family = corev1.IPv6Protocol
	}
	return &networkingv1.IPAddress{
		ObjectMeta: metav1.ObjectMeta{Name: ip.String(), Labels: map[string]string{
			networkingv1.LabelIPAddressFamily: string(family),
			networkingv1.LabelManagedBy:       IPAllocatorName,
		}},
		Spec: networkingv1.IPAddressSpec{ParentRef: serviceRef(svc)},
	}
}

func serviceRef(svc *corev1.Service) *networkingv1.ParentReference {
	return &networkingv1.ParentReference{Group: "", Resource: "services", Namespace: svc.Namespace, Name: svc.Name}
}

// allocateServiceIPs reserves a new service's cluster IP (an IPAddress)
// and node ports (bits of the node port bitmap). done(false) releases
// them when the create failed.
func (n ServiceNetwork) allocateServiceIPs(ctx context.Context, s *registry.Store, obj runtime.Object, dryRun bool) (func(bool), error) {
	al := allocatorOf(s, n)
	al.dryRun = dryRun
	svc := obj.(*corev1.Service)
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return func(bool) {}, nil
	}
	var ips []netip.Addr
	switch ip := svc.Spec.ClusterIP; {
	case ip == corev1.ClusterIPNone:
		svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
	case ip == "":
		a, err := al.allocateAnyIP(ctx, svc)
		if err != nil {
			return nil, err
		}
		ips = append(ips, a)
		svc.Spec.ClusterIP = a.String()
		svc.Spec.ClusterIPs = []string{a.String()}
	default:
		a, err := al.allocateIP(ctx, svc, ip)
		if err != nil {
			return nil, err
		}
		ips = append(ips, a)
		svc.Spec.ClusterIPs = []string{ip}
	}
	ports, err := al.allocateNodePorts(ctx, svc)
	if err != nil {
		al.releaseIPs(context.WithoutCancel(ctx), svc, ips)
		return nil, err
	}
	return func(created bool) {
		if !created {
			al.releaseIPs(context.WithoutCancel(ctx), svc, ips)
			al.releaseNodePorts(context.WithoutCancel(ctx), ports)
		}
	}, nil
}

// releaseService frees what a deleted service held.
func (n ServiceNetwork) releaseService(ctx context.Context, s *registry.Store, obj runtime.Object) {
	al := allocatorOf(s, n)
	svc := obj.(*corev1.Service)
	var ips []netip.Addr
	for _, ip := range append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...) {
		if a, err := netip.ParseAddr(ip); err == nil {
			ips = append(ips, a)
		}
	}
	al.releaseIPs(ctx, svc, ips)
	var ports []int32
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			ports = append(ports, p.NodePort)
		}
	}
	if needsHealthCheck(svc) && svc.Spec.HealthCheckNodePort != 0 {
		ports = append(ports, svc.Spec.HealthCheckNodePort)
	}
	al.releaseNodePorts(ctx, ports)
}

// allocator reserves and releases the cluster IPs and node ports of the
// services of a registry.
type allocator struct {
	reg *registry.Registry
	gk  schema.GroupKind // of services, for errors
	net ServiceNetwork
	// dryRun checks and picks without reserving or releasing anything.
	dryRun bool
}

func allocatorOf(s *registry.Store, n ServiceNetwork) allocator {
	return allocator{reg: s.Registry(), gk: s.Resource().GroupVersionKind().GroupKind(), net: n}
}

// ipStore returns the store of IPAddresses, nil if the table has none.
func (al allocator) ipStore() *registry.Store {
	if al.reg == nil {
		return nil
	}
	st, _ := al.reg.Lookup(ipAddressesGVR)
	return st
}

// reserveIP creates the IPAddress of ip for svc. It returns an
// AlreadyExists error when the address is taken.
func (al allocator) reserveIP(ctx context.Context, svc *corev1.Service, ip netip.Addr) error {
	ips := al.ipStore()
	if ips == nil {
		return nil
	}
	if al.dryRun { // taken if its IPAddress exists
		_, err := ips.Get(ctx, "", ip.String(), nil)
		switch {
		case err == nil:
			return apierrors.NewAlreadyExists(ipAddressesGVR.GroupResource(), ip.String())
		case apierrors.IsNotFound(err):
			return nil
		}
		return err
	}
	_, err := ips.Create(ctx, "", newIPAddress(ip, svc), registry.CreateOptions{})
	return err
}

// allocateIP reserves the address a service asks for.
func (al allocator) allocateIP(ctx context.Context, svc *corev1.Service, ip string) (netip.Addr, error) {
	path := field.NewPath("spec", "clusterIPs")
	invalid := func(msg string) error {
		return apierrors.NewInvalid(al.gk, svc.Name, field.ErrorList{field.Invalid(path, []string{ip},
			fmt.Sprintf("failed to allocate IP %s: %s", ip, msg))})
	}
	a, err := netip.ParseAddr(ip)
	cidr := al.net.ClusterIPRange
	if err == nil && !cidr.Contains(a) {
		return a, invalid("the provided network does not match the current range")
	}
	if err != nil {
		return a, invalid(fmt.Sprintf("the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, cidr))
	}
	if err := al.reserveIP(ctx, svc, a); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return a, invalid("provided IP is already allocated")
		}
		return a, err
	}
	return a, nil
}

// allocateAnyIP reserves a free address of the cluster IP range, at
// random. The known IPAddresses are skipped; a create that loses a race
// tries the next candidate.
func (al allocator) allocateAnyIP(ctx context.Context, svc *corev1.Service) (netip.Addr, error) {
	used := map[string]bool{}
	if ips := al.ipStore(); ips != nil {
		list, err := ips.List(ctx, "", &metainternalversion.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return netip.Addr{}, err
		}
		for _, it := range list.(*networkingv1.IPAddressList).Items {
			used[it.Name] = true
		}
	}
	for a := range candidates(al.net.ClusterIPRange, used) {
		err := al.reserveIP(ctx, svc, a)
		if err == nil {
			return a, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return a, err
		}
	}
	return netip.Addr{}, apierrors.NewInternalError(errors.New("failed to allocate a serviceIP: range is full"))
}

// candidates yields the free addresses of cidr (not in used) in the
// order upstream's allocator tries them for a service that asks for none
// (KEP-3070): the upper band first, then the lower band (the first
// rangeOffset addresses), which it keeps for services that ask for an
// address while the upper one has room; each band is walked from a random
// address, so that a range of a million addresses (kubeadm's /12) or an
// IPv6 /64 costs no more than a /24. The network address, the first (the
// kubernetes service's) and, for IPv4, the broadcast address are skipped.
func candidates(cidr netip.Prefix, used map[string]bool) iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		hostBits := min(cidr.Addr().BitLen()-cidr.Bits(), 62)
		size := uint64(1) << hostBits
		end := size // one past the last address that may be handed out
		if cidr.Addr().Is4() {
			end-- // broadcast
		}
		if end <= 2 {
			return
		}
		offset := max(uint64(rangeOffset(size)), 2)
		base := cidr.Masked().Addr()
		for _, band := range [][2]uint64{{min(offset, end), end}, {2, min(offset, end)}} {
			n := band[1] - band[0]
			if n == 0 {
				continue
			}
			start := rand.Uint64N(n)
			for i := range n {
				a := addrAt(base, band[0]+(start+i)%n)
				if used[a.String()] {
					continue
				}
				if !yield(a) {
					return
				}
			}
		}
	}
}

// addrAt is the address off after base (off within the range's host
// bits).
func addrAt(base netip.Addr, off uint64) netip.Addr {
	if base.Is4() {
		b := base.As4()
		binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+uint32(off))
		return netip.AddrFrom4(b)
	}
	b := base.As16()
	binary.BigEndian.PutUint64(b[8:], binary.BigEndian.Uint64(b[8:])+off)
	return netip.AddrFrom16(b)
}

// rangeOffset is upstream's calculateRangeOffset: a sixteenth of the
// range, at least 16 and at most 256 addresses (none under 16).
func rangeOffset(size uint64) int {
	const minOffset, maxOffset, step = 16, 256, 16
	switch {
	case size < minOffset:
		return 0
	case size/step < minOffset:
		return minOffset
	case size/step > maxOffset:
		return maxOffset
	}
	return int(size / step)
}

// addrIndex is a's distance from base (the low 64 bits suffice for any
// service range).
func addrIndex(base, a netip.Addr) uint64 {
	b, x := base.As16(), a.As16()
	return binary.BigEndian.Uint64(x[8:]) - binary.BigEndian.Uint64(b[8:])
}

// releaseIPs deletes the IPAddresses of ips that point at svc.
func (al allocator) releaseIPs(ctx context.Context, svc *corev1.Service, ips []netip.Addr) {
	st := al.ipStore()
	if st == nil || al.dryRun {
		return
	}
	ref := serviceRef(svc)
	for _, a := range ips {
		obj, err := st.Get(ctx, "", a.String(), nil)
		if err != nil {
			continue
		}
		ipa := obj.(*networkingv1.IPAddress)
		if p := ipa.Spec.ParentRef; p == nil || *p != *ref {
			continue // someone else's now
		}
		uid := ipa.UID
		_, _, _ = st.Delete(ctx, "", ipa.Name, registry.DeleteOptions{DeleteOptions: metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}})
	}
}

// EnsureAllocations creates, at start, what a fresh kube-apiserver writes
// for service allocation (the default ServiceCIDR, the node port bitmap)
// and repairs the allocations of existing services (a data directory of
// an older regis has no IPAddresses).
func EnsureAllocations(ctx context.Context, reg *registry.Registry, n ServiceNetwork) error {
	if err := bootstrapAllocations(ctx, reg, n, metav1.NewTime(time.Now().Truncate(time.Second))); err != nil {
		return err
	}
	if svcs, ok := reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "services"}); ok {
		return repairAllocations(ctx, svcs, n)
	}
	return nil
}

// bootstrapAllocations creates what a fresh kube-apiserver writes for
// service allocation: the default ServiceCIDR "kubernetes" (Ready) and
// the node port bitmap. Existing objects are left alone.
func bootstrapAllocations(ctx context.Context, reg *registry.Registry, n ServiceNetwork, now metav1.Time) error {
	if cidrs, ok := reg.Lookup(serviceCIDRsGVR); ok {
		sc := &networkingv1.ServiceCIDR{
			ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceCIDRName},
			Spec:       networkingv1.ServiceCIDRSpec{CIDRs: []string{n.ClusterIPRange.String()}},
			Status: networkingv1.ServiceCIDRStatus{Conditions: []metav1.Condition{{
				Type: networkingv1.ServiceCIDRConditionReady, Status: metav1.ConditionTrue,
				Message: "Kubernetes default Service CIDR is ready", LastTransitionTime: now,
			}}},
		}
		ready := sc.Status.Conditions
		if _, err := cidrs.Create(ctx, "", sc, registry.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("bootstrap: servicecidr %s: %w", DefaultServiceCIDRName, err)
		}
		// The status is the default ServiceCIDR controller's: Ready once.
		_, _, err := cidrs.Update(ctx, "", DefaultServiceCIDRName, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
			if existing == nil {
				return nil, apierrors.NewNotFound(cidrs.Resource().GroupResource(), DefaultServiceCIDRName)
			}
			cur := existing.(*networkingv1.ServiceCIDR)
			for _, c := range cur.Status.Conditions {
				if c.Type == networkingv1.ServiceCIDRConditionReady && c.Status != metav1.ConditionUnknown {
					return cur, nil
				}
			}
			cur.Status.Conditions = ready
			return cur, nil
		}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
		if err != nil {
			return fmt.Errorf("bootstrap: servicecidr %s status: %w", DefaultServiceCIDRName, err)
		}
	}
	if svcs, ok := reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "services"}); ok {
		if err := allocatorOf(svcs, n).resetNodePorts(ctx); err != nil {
			return fmt.Errorf("bootstrap: node port range: %w", err)
		}
	}
	return nil
}

// repairAllocations makes sure every service's cluster IPs have their
// IPAddress and its node ports their bits, as upstream's repair loops do
// at start. Addresses held by another parent are left alone.
func repairAllocations(ctx context.Context, svcs *registry.Store, n ServiceNetwork) error {
	list, err := svcs.List(ctx, "", &metainternalversion.ListOptions{})
	if err != nil {
		return err
	}
	var ports []int32
	for i := range list.(*corev1.ServiceList).Items {
		svc := &list.(*corev1.ServiceList).Items[i]
		for _, ip := range svc.Spec.ClusterIPs {
			a, err := netip.ParseAddr(ip)
			if err != nil || !n.ClusterIPRange.Contains(a) {
				continue
			}
			if err := allocatorOf(svcs, n).reserveIP(ctx, svc, a); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("repairing the IPAddress of service %s/%s: %w", svc.Namespace, svc.Name, err)
			}
		}
		for _, p := range svc.Spec.Ports {
			if n.hasNodePort(p.NodePort) {
				ports = append(ports, p.NodePort)
			}
		}
		if hc := svc.Spec.HealthCheckNodePort; needsHealthCheck(svc) && n.hasNodePort(hc) {
			ports = append(ports, hc)
		}
	}
	if len(ports) == 0 {
		return nil
	}
	return allocatorOf(svcs, n).updateNodePorts(ctx, func(bits *big.Int) error {
		for _, p := range ports {
			bits.SetBit(bits, int(p)-n.NodePortBase, 1)
		}
		return nil
	})
}
