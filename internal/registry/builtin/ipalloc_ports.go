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
	return st.GuaranteedUpdate(ctx, NodePortRangeKey, out, true, nil, func(input runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		ra := input.(*corev1.RangeAllocation).DeepCopy()
		if ra.Range == "" {
			ra.Range = nodePortRangeSpec()
		}
		bits := new(big.Int).SetBytes(ra.Data)
		if err := change(bits); err != nil {
			return nil, nil, err
		}
		ra.Data = bits.Bytes()
		return ra, nil, nil
	}, nil)
}

// allocateNodePorts reserves the node ports of a NodePort or LoadBalancer
// service: those it asks for, and free ones at random for the others.
func (al allocator) allocateNodePorts(ctx context.Context, svc *corev1.Service) ([]int32, error) {
	if svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil, nil
	}
	var got []int32
	asked := make([]int32, len(svc.Spec.Ports))
	for i, p := range svc.Spec.Ports {
		asked[i] = p.NodePort
	}
	err := al.updateNodePorts(ctx, func(bits *big.Int) error {
		// A retry after a conflict starts again from what was asked.
		got = got[:0]
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = asked[i]
		}
		var errs field.ErrorList
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			path := field.NewPath("spec", "ports").Index(i).Child("nodePort")
			if p.NodePort != 0 {
				switch {
				case p.NodePort < NodePortMin || p.NodePort > NodePortMax:
					errs = append(errs, field.Invalid(path, p.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %s", nodePortRangeSpec())))
				case bits.Bit(int(p.NodePort-NodePortMin)) == 1 && !contains(got, p.NodePort):
					errs = append(errs, field.Invalid(path, p.NodePort, "provided port is already allocated"))
				default:
					bits.SetBit(bits, int(p.NodePort-NodePortMin), 1)
					got = append(got, p.NodePort)
				}
			}
		}
		if len(errs) > 0 {
			return apierrors.NewInvalid(al.gk, svc.Name, errs)
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort != 0 && contains(got, p.NodePort) {
				continue
			}
			port, ok := freePort(bits)
			if !ok {
				return apierrors.NewInternalError(errors.New("failed to allocate a nodePort: range is full"))
			}
			bits.SetBit(bits, int(port-NodePortMin), 1)
			p.NodePort = port
			got = append(got, port)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}

func contains(ports []int32, p int32) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}

// freePort picks a clear bit at random, then scans from there.
func freePort(bits *big.Int) (int32, bool) {
	size := NodePortMax - NodePortMin + 1
	start := rand.IntN(size)
	for i := range size {
		off := (start + i) % size
		if bits.Bit(off) == 0 {
			return int32(NodePortMin + off), true
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
			if p >= NodePortMin && p <= NodePortMax {
				bits.SetBit(bits, int(p-NodePortMin), 0)
			}
		}
		return nil
	})
}
