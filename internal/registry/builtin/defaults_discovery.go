package builtin

import (
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
)

// EndpointSlices: the strategy of pkg/registry/discovery/endpointslice
// (v1.37) for writes through discovery.k8s.io/v1, the only version served.

// hostnameLabel is the topology key that held an endpoint's node name
// before spec.nodeName (corev1.LabelHostname).
const hostnameLabel = "kubernetes.io/hostname"

// prepareEndpointSlice is the strategy's PrepareForCreate: v1 writes drop
// deprecatedTopology (dropTopologyOnV1).
func prepareEndpointSlice(o runtime.Object) {
	dropTopology(o.(*discoveryv1.EndpointSlice), nil)
}

// prepareEndpointSliceUpdate is the strategy's PrepareForUpdate: a change
// of the labels bumps the generation too (the store bumps it for the
// rest), and changed endpoints lose their deprecatedTopology, an endpoint
// without a nodeName taking the node name its topology held if the stored
// slice named that node there.
func prepareEndpointSliceUpdate(o, old runtime.Object) {
	eps, prev := o.(*discoveryv1.EndpointSlice), old.(*discoveryv1.EndpointSlice)
	if eps.Generation == prev.Generation && !equality.Semantic.DeepEqual(eps.Labels, prev.Labels) {
		eps.Generation = prev.Generation + 1
	}
	if equality.Semantic.DeepEqual(eps.Endpoints, prev.Endpoints) {
		return
	}
	dropTopology(eps, prev)
}

// dropTopology is upstream's dropTopologyOnV1 past its checks.
func dropTopology(eps, prev *discoveryv1.EndpointSlice) {
	known := map[string]bool{}
	if prev != nil {
		for _, ep := range prev.Endpoints {
			if n := ep.DeprecatedTopology[hostnameLabel]; n != "" {
				known[n] = true
			}
		}
	}
	for i := range eps.Endpoints {
		ep := &eps.Endpoints[i]
		n, ok := ep.DeprecatedTopology[hostnameLabel]
		if ep.NodeName == nil && ok && known[n] && len(apivalidation.NameIsDNSSubdomain(n, false)) == 0 {
			ep.NodeName = &n
		}
		ep.DeprecatedTopology = nil
	}
}
