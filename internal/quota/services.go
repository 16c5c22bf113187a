package quota

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

var serviceCount = corev1.ResourceName("count/services")

var serviceResources = []corev1.ResourceName{serviceCount, corev1.ResourceServices,
	corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers}

// serviceEvaluator is upstream's: services, load balancers and node
// ports, charged on create and update (the type can change).
type serviceEvaluator struct{}

func (serviceEvaluator) handles(op registry.Operation, sub string, _, _ runtime.Object) bool {
	return sub == "" && (op == registry.OpCreate || op == registry.OpUpdate)
}

func (serviceEvaluator) matchingResources(in []corev1.ResourceName) []corev1.ResourceName {
	return intersection(in, serviceResources)
}

func (serviceEvaluator) matchesScope(corev1.ScopedResourceSelectorRequirement, runtime.Object) (bool, error) {
	return false, nil
}

func (serviceEvaluator) constraints([]corev1.ResourceName, runtime.Object) error { return nil }

func (serviceEvaluator) usage(obj runtime.Object) (corev1.ResourceList, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return corev1.ResourceList{}, fmt.Errorf("expect *api.Service or *v1.Service, got %T", obj)
	}
	ports := int64(len(svc.Spec.Ports))
	out := corev1.ResourceList{serviceCount: one(), corev1.ResourceServices: one(),
		corev1.ResourceServicesLoadBalancers: resource.Quantity{Format: resource.DecimalSI},
		corev1.ResourceServicesNodePorts:     resource.Quantity{Format: resource.DecimalSI}}
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		out[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(ports, resource.DecimalSI)
	case corev1.ServiceTypeLoadBalancer:
		if a := svc.Spec.AllocateLoadBalancerNodePorts; a != nil && !*a {
			n := int64(0)
			for _, p := range svc.Spec.Ports {
				if p.NodePort != 0 {
					n++
				}
			}
			ports = n
		}
		out[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(ports, resource.DecimalSI)
		out[corev1.ResourceServicesLoadBalancers] = one()
	}
	return out, nil
}

var pvcCount = corev1.ResourceName("count/persistentvolumeclaims")

const storageClassSuffix = ".storageclass.storage.k8s.io/"

var pvcResources = []corev1.ResourceName{corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage}

// pvcEvaluator is upstream's: claims and requested storage, in all and
// by storage class, charged on create and on an update of the spec.
type pvcEvaluator struct{}

func (pvcEvaluator) handles(op registry.Operation, sub string, obj, old runtime.Object) bool {
	switch sub {
	case "":
		return op == registry.OpCreate || op == registry.OpUpdate
	case "status":
		pvc, ok1 := obj.(*corev1.PersistentVolumeClaim)
		oldPVC, ok2 := old.(*corev1.PersistentVolumeClaim)
		if !ok1 || !ok2 {
			return false
		}
		// upstream's RequiresQuotaReplenish: the allocated storage changed
		a, b := pvc.Status.AllocatedResources[corev1.ResourceStorage], oldPVC.Status.AllocatedResources[corev1.ResourceStorage]
		return a.Cmp(b) != 0
	}
	return false
}

func (pvcEvaluator) matchingResources(in []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, n := range in {
		if n == pvcCount || n == corev1.ResourcePersistentVolumeClaims || n == corev1.ResourceRequestsStorage {
			out = append(out, n)
			continue
		}
		for _, r := range pvcResources {
			if strings.HasSuffix(string(n), storageClassSuffix+string(r)) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// matchesScope selects by VolumeAttributesClass: the class of the spec,
// the current one or the one a modification goes to.
func (pvcEvaluator) matchesScope(sel corev1.ScopedResourceSelectorRequirement, obj runtime.Object) (bool, error) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || sel.ScopeName != corev1.ResourceQuotaScopeVolumeAttributesClass {
		return false, nil
	}
	var classes []string
	if c := pvc.Spec.VolumeAttributesClassName; c != nil && *c != "" {
		classes = append(classes, *c)
	}
	if c := pvc.Status.CurrentVolumeAttributesClassName; c != nil && *c != "" {
		classes = append(classes, *c)
	}
	if m := pvc.Status.ModifyVolumeStatus; m != nil && m.TargetVolumeAttributesClassName != "" {
		classes = append(classes, m.TargetVolumeAttributesClassName)
	}
	if sel.Operator == corev1.ScopeSelectorOpExists {
		return len(classes) > 0, nil
	}
	s, err := scopeSelectorAsSelector(sel)
	if err != nil {
		return false, err
	}
	if len(classes) == 0 {
		return s.Matches(labels.Set{}), nil
	}
	for _, c := range classes {
		if s.Matches(labels.Set{string(sel.ScopeName): c}) {
			return true, nil
		}
	}
	return false, nil
}

func (pvcEvaluator) constraints([]corev1.ResourceName, runtime.Object) error { return nil }

func (pvcEvaluator) usage(obj runtime.Object) (corev1.ResourceList, error) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return corev1.ResourceList{}, fmt.Errorf("expect *api.PersistentVolumeClaim or *v1.PersistentVolumeClaim, got %T", obj)
	}
	out := corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: one(), pvcCount: one()}
	class := claimClass(pvc)
	if class != "" {
		out[corev1.ResourceName(class+storageClassSuffix+string(corev1.ResourcePersistentVolumeClaims))] = one()
	}
	if q := storageUsage(pvc); q != nil {
		out[corev1.ResourceRequestsStorage] = *q
		if class != "" {
			out[corev1.ResourceName(class+storageClassSuffix+string(corev1.ResourceRequestsStorage))] = *q
		}
	}
	return out, nil
}

// claimClass is upstream's GetPersistentVolumeClaimClass: the beta
// annotation first, then the spec.
func claimClass(pvc *corev1.PersistentVolumeClaim) string {
	if c, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return c
	}
	if pvc.Spec.StorageClassName != nil {
		return *pvc.Spec.StorageClassName
	}
	return ""
}

// storageUsage is the requested storage, rounded up to whole bytes, or the
// allocated one when larger (RecoverVolumeExpansionFailure).
func storageUsage(pvc *corev1.PersistentVolumeClaim) *resource.Quantity {
	round := func(q resource.Quantity) *resource.Quantity {
		r := q.DeepCopy()
		r.RoundUp(0)
		return &r
	}
	req, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return nil
	}
	out := round(req)
	if alloc, ok := pvc.Status.AllocatedResources[corev1.ResourceStorage]; ok && alloc.Cmp(*out) > 0 {
		out = round(alloc)
	}
	return out
}
