package builtin

import (
	"strings"
	"time"

	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// resourceRows are resource.k8s.io/v1 (dynamic resource allocation):
// device classes and resource slices, cluster-scoped, with a generation;
// resource claims (with a status) and their templates, namespaced.
func resourceRows() []*registry.Resource {
	const g, v = "resource.k8s.io", "v1"
	return []*registry.Resource{
		{Group: g, Version: v, Resource: "deviceclasses", Kind: "DeviceClass",
			New: newFn[resourcev1.DeviceClass], NewList: newFn[resourcev1.DeviceClassList], Generation: true,
			ReturnDeletedObject: true},
		{Group: g, Version: v, Resource: "resourceclaims", Kind: "ResourceClaim", Namespaced: true,
			New: newFn[resourcev1.ResourceClaim], NewList: newFn[resourcev1.ResourceClaimList], Status: true,
			ReturnDeletedObject: true,
			Default: func(o runtime.Object) {
				c := o.(*resourcev1.ResourceClaim)
				defaultDeviceClaim(&c.Spec.Devices)
				if a := c.Status.Allocation; a != nil {
					for i := range a.Devices.Results {
						defaultTolerations(a.Devices.Results[i].Tolerations)
					}
				}
			},
			Columns: resourceClaimColumns},
		{Group: g, Version: v, Resource: "resourceclaimtemplates", Kind: "ResourceClaimTemplate", Namespaced: true,
			New: newFn[resourcev1.ResourceClaimTemplate], NewList: newFn[resourcev1.ResourceClaimTemplateList],
			ReturnDeletedObject: true,
			Default:             func(o runtime.Object) { defaultDeviceClaim(&o.(*resourcev1.ResourceClaimTemplate).Spec.Spec.Devices) }},
		{Group: g, Version: v, Resource: "resourceslices", Kind: "ResourceSlice",
			New: newFn[resourcev1.ResourceSlice], NewList: newFn[resourcev1.ResourceSliceList], Generation: true,
			ReturnDeletedObject: true,
			Fields: func(o runtime.Object) fields.Set {
				s := o.(*resourcev1.ResourceSlice)
				return fields.Set{"spec.nodeName": derefOr(s.Spec.NodeName, ""), "spec.driver": s.Spec.Driver}
			},
			Default: defaultResourceSlice, Columns: resourceSliceColumns,
			WarningsOnCreate: resourceSliceWarnings, WarningsOnUpdate: onUpdate(resourceSliceWarnings)},
	}
}

// defaultDeviceClaim sets the defaults of k8s.io/kubernetes
// pkg/apis/resource/v1/defaults.go on the requests of a claim.
func defaultDeviceClaim(d *resourcev1.DeviceClaim) {
	for i := range d.Requests {
		r := &d.Requests[i]
		if e := r.Exactly; e != nil {
			defaultAllocationMode(&e.AllocationMode, &e.Count)
			defaultTolerations(e.Tolerations)
		}
		for j := range r.FirstAvailable {
			s := &r.FirstAvailable[j]
			defaultAllocationMode(&s.AllocationMode, &s.Count)
			defaultTolerations(s.Tolerations)
		}
	}
}

func defaultAllocationMode(mode *resourcev1.DeviceAllocationMode, count *int64) {
	if *mode == "" {
		*mode = resourcev1.DeviceAllocationModeExactCount
	}
	if *mode == resourcev1.DeviceAllocationModeExactCount && *count == 0 {
		*count = 1
	}
}

func defaultTolerations(ts []resourcev1.DeviceToleration) {
	for i := range ts {
		if ts[i].Operator == "" {
			ts[i].Operator = resourcev1.DeviceTolerationOpEqual
		}
	}
}

func defaultResourceSlice(o runtime.Object) {
	s := o.(*resourcev1.ResourceSlice)
	for i := range s.Spec.Devices {
		for j := range s.Spec.Devices[i].Taints {
			if t := &s.Spec.Devices[i].Taints[j]; t.TimeAdded == nil {
				t.TimeAdded = &metav1.Time{Time: time.Now().Truncate(time.Second)}
			}
		}
	}
}

var resourceClaimColumns = []registry.Column{
	{Name: "State", Type: "string", Description: "A summary of the current state (allocated, pending, reserved, etc.).",
		Cell: func(o runtime.Object) any { return resourceClaimState(o.(*resourcev1.ResourceClaim)) }},
	registry.AgeColumn,
}

func resourceClaimState(c *resourcev1.ResourceClaim) string {
	var states []string
	if c.DeletionTimestamp != nil {
		states = append(states, "deleted")
	}
	switch {
	case c.Status.Allocation == nil && c.DeletionTimestamp == nil:
		states = append(states, "pending")
	case c.Status.Allocation != nil:
		states = append(states, "allocated")
		if len(c.Status.ReservedFor) > 0 {
			states = append(states, "reserved")
		}
	}
	return strings.Join(states, ",")
}

var resourceSliceColumns = []registry.Column{
	{Name: "Node", Type: "string", Description: resourcev1.ResourceSliceSpec{}.SwaggerDoc()["nodeName"],
		Cell: func(o runtime.Object) any { return derefOr(o.(*resourcev1.ResourceSlice).Spec.NodeName, "") }},
	{Name: "Driver", Type: "string", Description: resourcev1.ResourceSliceSpec{}.SwaggerDoc()["driver"],
		Cell: func(o runtime.Object) any { return o.(*resourcev1.ResourceSlice).Spec.Driver }},
	{Name: "Pool", Type: "string", Description: resourcev1.ResourcePool{}.SwaggerDoc()["name"],
		Cell: func(o runtime.Object) any { return o.(*resourcev1.ResourceSlice).Spec.Pool.Name }},
	registry.AgeColumn,
}
