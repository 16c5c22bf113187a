package builtin

// Node ports: a RangeAllocation bitmap, updated by compare-and-swap.

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/storage"
)

// updateNodePorts applies change to the node port bitmap, creating it when
// missing, with compare-and-swap retries.
func (al allocator) updateNodePorts(ctx context.Context, change func(bits *big.Int) error) error {
	if al.reg == nil {
		return nil
	}
	st := al.reg.Internal(nodePortRange.Resource)
	if st == nil {
		return nil
	}
	out := &corev1.RangeAllocation{}
	if al.dryRun { // the change on what is stored, not written
		if err := st.Get(ctx, NodePortRangeKey, storage.GetOptions{IgnoreNotFound: true}, out); err != nil {
			return err
		}
		return change(new(big.Int).SetBytes(out.Data))
	}
	spec := al.net.nodePortRangeSpec()
	return st.GuaranteedUpdate(ctx, NodePortRangeKey, out, true, nil, func(input runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		ra := input.(*corev1.RangeAllocation).DeepCopy()
		switch ra.Range {
		case "":
			ra.Range = spec
		case spec:
		default: // another server allocates from another range
			return nil, nil, apierrors.NewInternalError(fmt.Errorf("the node port range in storage (%s) is not --service-node-port-range (%s)", ra.Range, spec))
		}
		bits := new(big.Int).SetBytes(ra.Data)
		if err := change(bits); err != nil {
			return nil, nil, err
		}
		ra.Data = bits.Bytes()
		return ra, nil, nil
	}, nil)
}

// resetNodePorts creates the node port bitmap when it is missing, and
// empties it when it holds another range than al's (the flag changed
// since the last start; upstream's repair loop does the same), so that
// the repair at start sets the bits of the ports services hold.
func (al allocator) resetNodePorts(ctx context.Context) error {
	if al.reg == nil {
		return nil
	}
	st := al.reg.Internal(nodePortRange.Resource)
	if st == nil {
		return nil
	}
	spec := al.net.nodePortRangeSpec()
	return st.GuaranteedUpdate(ctx, NodePortRangeKey, &corev1.RangeAllocation{}, true, nil, func(input runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		ra := input.(*corev1.RangeAllocation).DeepCopy()
		if ra.Range != spec {
			// empty, not nil: kube-apiserver's bitmap of no port encodes
			// its data field (TestServiceAllocationStorage)
			ra.Range, ra.Data = spec, []byte{}
		}
		return ra, nil, nil
	}, nil)
}

// allocateNodePorts reserves the node ports of a NodePort or LoadBalancer
// service, as upstream's initNodePorts: those it asks for, and free ones
// at random for the others, unless a load balancer allocates none
// (allocateLoadBalancerNodePorts false); ports of the same number share
// one node port. A load balancer with the Local traffic policy also gets
// its health check node port. It returns every port reserved.
func (al allocator) allocateNodePorts(ctx context.Context, svc *corev1.Service) ([]int32, error) {
	hc := needsHealthCheck(svc)
	if !needsNodePort(svc) && !hc {
		return nil, nil
	}
	ports := svc.Spec.Ports
	asked := make([]int32, len(ports))
	for i, p := range ports {
		asked[i] = p.NodePort
	}
	askedHC := svc.Spec.HealthCheckNodePort
	var got []int32
	err := al.updateNodePorts(ctx, func(bits *big.Int) error {
		// A retry after a conflict starts again from what was asked.
		got = got[:0]
		for i := range ports {
			ports[i].NodePort = asked[i]
		}
		svc.Spec.HealthCheckNodePort = askedHC
		np := nodePortTxn{bits: bits, got: &got, net: al.net}
		if needsNodePort(svc) {
			if err := al.initNodePorts(svc, np); err != nil {
				return err
			}
		}
		if hc {
			return al.allocHealthCheckNodePort(svc, np)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}

// nodePortTxn reserves node ports in a bitmap, recording them in got.
type nodePortTxn struct {
	bits *big.Int
	got  *[]int32
	net  ServiceNetwork
}

// reserve sets port's bit; its errors are upstream's port allocator's.
func (t nodePortTxn) reserve(port int32) error {
	if !t.net.hasNodePort(port) {
		return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %s", t.net.nodePortRangeSpec())
	}
	if t.bits.Bit(int(port)-t.net.NodePortBase) == 1 {
		return errors.New("provided port is already allocated")
	}
	t.bits.SetBit(t.bits, int(port)-t.net.NodePortBase, 1)
	*t.got = append(*t.got, port)
	return nil
}

// next reserves a free port at random.
func (t nodePortTxn) next() (int32, bool) {
	port, ok := t.net.freePort(t.bits)
	if ok {
		t.bits.SetBit(t.bits, int(port)-t.net.NodePortBase, 1)
		*t.got = append(*t.got, port)
	}
	return port, ok
}

// initNodePorts is upstream's: each port gets the node port asked for by
// the first port of its number, or a free one.
func (al allocator) initNodePorts(svc *corev1.Service, t nodePortTxn) error {
	ports := svc.Spec.Ports
	byPort := map[int32]int32{}
	for i := range ports {
		p := &ports[i]
		if p.NodePort == 0 && !allocatesNodePorts(svc) {
			continue // no new ports, but those asked for are reserved
		}
		path := field.NewPath("spec", "ports").Index(i).Child("nodePort")
		allocated := byPort[p.Port]
		switch {
		case allocated == 0:
			np := requestedNodePort(p.Port, ports)
			if np == 0 {
				port, ok := t.next()
				if !ok {
					return apierrors.NewInternalError(errors.New("failed to allocate a nodePort: range is full"))
				}
				np = port
			} else if err := t.reserve(np); err != nil {
				return apierrors.NewInvalid(al.gk, svc.Name, field.ErrorList{field.Invalid(path, np, err.Error())})
			}
			p.NodePort = np
			byPort[p.Port] = np
		case p.NodePort == 0:
			p.NodePort = allocated
		case p.NodePort != allocated:
			if err := t.reserve(p.NodePort); err != nil {
				return apierrors.NewInvalid(al.gk, svc.Name, field.ErrorList{field.Invalid(path, p.NodePort, err.Error())})
			}
		}
	}
	return nil
}

// requestedNodePort is upstream's findRequestedNodePort: the node port
// asked for by the first port of that number.
func requestedNodePort(port int32, ports []corev1.ServicePort) int32 {
	for _, p := range ports {
		if p.Port == port && p.NodePort != 0 {
			return p.NodePort
		}
	}
	return 0
}

// allocHealthCheckNodePort is upstream's: the port asked for, or a free
// one; a failure is an internal error.
func (al allocator) allocHealthCheckNodePort(svc *corev1.Service, t nodePortTxn) error {
	if hc := svc.Spec.HealthCheckNodePort; hc != 0 {
		if err := t.reserve(hc); err != nil {
			return apierrors.NewInternalError(fmt.Errorf("failed to allocate requested HealthCheck NodePort %d: %w", hc, err))
		}
		return nil
	}
	port, ok := t.next()
	if !ok {
		return apierrors.NewInternalError(errors.New("failed to allocate a HealthCheck NodePort 0: range is full"))
	}
	svc.Spec.HealthCheckNodePort = port
	return nil
}

// freePort picks a clear bit at random, then scans from there.
func (n ServiceNetwork) freePort(bits *big.Int) (int32, bool) {
	size := n.NodePortSize
	start := rand.IntN(size)
	for i := range size {
		off := (start + i) % size
		if bits.Bit(off) == 0 {
			return int32(n.NodePortBase + off), true
		}
	}
	return 0, false
}

// releaseNodePorts clears the bits of ports.
func (al allocator) releaseNodePorts(ctx context.Context, ports []int32) {
	if len(ports) == 0 {
		return
	}
	_ = al.updateNodePorts(ctx, func(bits *big.Int) error {
		for _, p := range ports {
			if al.net.hasNodePort(p) {
				bits.SetBit(bits, int(p)-al.net.NodePortBase, 0)
			}
		}
		return nil
	})
}
