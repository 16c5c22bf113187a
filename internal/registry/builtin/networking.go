package builtin

import (
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// ingressClassRows are networking.k8s.io/v1's ingress classes,
// cluster-scoped, their generation bumped on spec changes.
func ingressClassRows() []*registry.Resource {
	return []*registry.Resource{
		{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses", Kind: "IngressClass",
			New: newFn[networkingv1.IngressClass], NewList: newFn[networkingv1.IngressClassList], Generation: true,
			Default: defaultIngressClass, Columns: ingressClassColumns},
	}
}

func defaultIngressClass(o runtime.Object) {
	ic := o.(*networkingv1.IngressClass)
	if p := ic.Spec.Parameters; p != nil && p.Scope == nil {
		p.Scope = ptr(networkingv1.IngressClassParametersReferenceScopeCluster)
	}
}

var ingressClassColumns = []registry.Column{
	{Name: "Name", Type: "string", Format: "name", Description: nameColumnDescription,
		Cell: func(o runtime.Object) any {
			ic := o.(*networkingv1.IngressClass)
			if ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
				return ic.Name + " (default)"
			}
			return ic.Name
		}},
	{Name: "Controller", Type: "string", Description: "Controller that is responsible for handling this class",
		Cell: func(o runtime.Object) any { return o.(*networkingv1.IngressClass).Spec.Controller }},
	{Name: "Parameters", Type: "string", Description: "A reference to a resource with additional parameters",
		Cell: func(o runtime.Object) any {
			p := o.(*networkingv1.IngressClass).Spec.Parameters
			if p == nil {
				return "<none>"
			}
			s := p.Kind
			if p.APIGroup != nil {
				s += "." + *p.APIGroup
			}
			return s + "/" + p.Name
		}},
	registry.AgeColumn,
}
