package builtin

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/regis-dev/regis/internal/registry"
)

// Endpoint slices (k8s.io/kubernetes pkg/apis/discovery/validation and
// pkg/registry/discovery/endpointslice, v1.37). The address type and an
// endpoint's addresses are checked declaratively (beta, enforced): their
// errors come last, with the declarative messages. A v1 write drops
// deprecatedTopology, so it is not validated.

const (
	maxEndpointSliceAddresses = 100
	maxEndpointSlicePorts     = 20000
	maxEndpointSliceEndpoints = 1000
	maxEndpointHints          = 8
)

var (
	endpointSliceAddressTypes = []discoveryv1.AddressType{
		discoveryv1.AddressTypeFQDN, discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
	endpointSliceProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
)

func validateEndpointSlice(o runtime.Object) field.ErrorList {
	e := o.(*discoveryv1.EndpointSlice)
	errs := validateAddressType(e.AddressType)
	errs = append(errs, validateEndpointPorts(e.Ports, field.NewPath("ports"))...)
	errs = append(errs, validateEndpoints(e.Endpoints, e.AddressType, field.NewPath("endpoints"))...)
	return mergeDeclarative(errs, declarativeEndpointSlice(e))
}

// validateEndpointSliceUpdate is upstream's immutable address type, a
// declarative error that names no value.
func validateEndpointSliceUpdate(o, old runtime.Object) field.ErrorList {
	if o.(*discoveryv1.EndpointSlice).AddressType == old.(*discoveryv1.EndpointSlice).AddressType {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("addressType"), nil, "field is immutable").WithOrigin("immutable")}
}

// declarativeEndpointSlice is the declarative validation of the address
// type (required, enum) and of each endpoint's addresses (required, at
// most 100).
func declarativeEndpointSlice(e *discoveryv1.EndpointSlice) field.ErrorList {
	var errs field.ErrorList
	typePath := field.NewPath("addressType")
	switch {
	case e.AddressType == "":
		errs = append(errs, field.Required(typePath, ""))
	case !slices.Contains(endpointSliceAddressTypes, e.AddressType):
		errs = append(errs, field.NotSupported(typePath, e.AddressType, endpointSliceAddressTypes))
	}
	for i, ep := range e.Endpoints {
		p := field.NewPath("endpoints").Index(i).Child("addresses")
		switch {
		case len(ep.Addresses) == 0:
			errs = append(errs, field.Required(p, ""))
		case len(ep.Addresses) > maxEndpointSliceAddresses:
			errs = append(errs, field.TooMany(p, len(ep.Addresses), maxEndpointSliceAddresses).WithOrigin("maxItems"))
		}
	}
	for _, err := range errs {
		err.MarkBeta()
	}
	return errs
}

func validateAddressType(t discoveryv1.AddressType) field.ErrorList {
	path := field.NewPath("addressType")
	switch {
	case t == "":
		return field.ErrorList{field.Required(path, "").MarkCoveredByDeclarative()}
	case !slices.Contains(endpointSliceAddressTypes, t):
		return field.ErrorList{field.NotSupported(path, t, endpointSliceAddressTypes).MarkCoveredByDeclarative()}
	}
	return nil
}

func validateEndpoints(endpoints []discoveryv1.Endpoint, addrType discoveryv1.AddressType, path *field.Path) field.ErrorList {
	if len(endpoints) > maxEndpointSliceEndpoints {
		return field.ErrorList{field.TooMany(path, len(endpoints), maxEndpointSliceEndpoints)}
	}
	var errs field.ErrorList
	for i := range endpoints {
		errs = append(errs, validateEndpoint(&endpoints[i], addrType, path.Index(i))...)
	}
	return errs
}

func validateEndpoint(ep *discoveryv1.Endpoint, addrType discoveryv1.AddressType, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	addrPath := path.Child("addresses")
	switch {
	case len(ep.Addresses) == 0:
		errs = append(errs, field.Required(addrPath, "must contain at least 1 address").MarkCoveredByDeclarative())
	case len(ep.Addresses) > maxEndpointSliceAddresses:
		errs = append(errs, field.TooMany(addrPath, len(ep.Addresses), maxEndpointSliceAddresses).
			WithOrigin("maxItems").MarkCoveredByDeclarative())
	}
	for i, addr := range ep.Addresses {
		errs = append(errs, validateEndpointAddress(addr, addrType, addrPath, i)...)
	}
	if ep.NodeName != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*ep.NodeName, false) {
			errs = append(errs, field.Invalid(path.Child("nodeName"), *ep.NodeName, msg))
		}
	}
	if ep.Hostname != nil {
		for _, msg := range registry.IsDNS1123Label(*ep.Hostname) {
			errs = append(errs, field.Invalid(path.Child("hostname"), *ep.Hostname, msg))
		}
	}
	if ep.Hints != nil {
		errs = append(errs, validateEndpointHints(ep.Hints, path.Child("hints"))...)
	}
	return errs
}

// validateEndpointAddress checks the i-th address of an endpoint as its
// slice's address type says; an unknown type checks nothing.
func validateEndpointAddress(addr string, addrType discoveryv1.AddressType, addrPath *field.Path, i int) field.ErrorList {
	p := addrPath.Index(i)
	var errs field.ErrorList
	switch addrType {
	case discoveryv1.AddressTypeIPv4:
		if errs = validation.IsValidIPForLegacyField(p, addr, true, nil); len(errs) > 0 {
			return errs
		}
		if !netutils.IsIPv4String(addr) {
			errs = append(errs, field.Invalid(addrPath, addr, "must be an IPv4 address"))
		}
		errs = append(errs, validateEndpointIP(addr, p)...)
	case discoveryv1.AddressTypeIPv6:
		if errs = validation.IsValidIP(p, addr); len(errs) > 0 {
			return errs
		}
		if !netutils.IsIPv6String(addr) {
			errs = append(errs, field.Invalid(addrPath, addr, "must be an IPv6 address"))
		}
		errs = append(errs, validateEndpointIP(addr, p)...)
	case discoveryv1.AddressTypeFQDN:
		errs = validation.IsFullyQualifiedDomainName(p, addr)
	}
	return errs
}

// validateEndpointIP is upstream's core ValidateEndpointIP: the ranges an
// endpoint may not be in.
func validateEndpointIP(addr string, path *field.Path) field.ErrorList {
	ip := netutils.ParseIPSloppy(addr)
	if ip == nil {
		return field.ErrorList{field.Invalid(path, addr, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if ip.IsUnspecified() {
		errs = append(errs, field.Invalid(path, addr, fmt.Sprintf("may not be unspecified (%v)", addr)))
	}
	if ip.IsLoopback() {
		errs = append(errs, field.Invalid(path, addr, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(path, addr, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(path, addr, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

func validateEndpointPorts(ports []discoveryv1.EndpointPort, path *field.Path) field.ErrorList {
	if len(ports) > maxEndpointSlicePorts {
		return field.ErrorList{field.TooMany(path, len(ports), maxEndpointSlicePorts)}
	}
	var errs field.ErrorList
	names := make([]string, 0, len(ports))
	for i, port := range ports {
		p := path.Index(i)
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		for _, msg := range endpointPortNameMsgs(name) {
			errs = append(errs, field.Invalid(p.Child("name"), name, msg))
		}
		if slices.Contains(names, name) {
			errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
		} else {
			names = append(names, name)
		}
		switch {
		case port.Protocol == nil:
			errs = append(errs, field.Required(p.Child("protocol"), ""))
		case !slices.Contains(endpointSliceProtocols, *port.Protocol):
			errs = append(errs, field.NotSupported(p.Child("protocol"), *port.Protocol, endpointSliceProtocols))
		}
		if port.AppProtocol != nil {
			for _, msg := range registry.IsQualifiedName(*port.AppProtocol) {
				errs = append(errs, field.Invalid(p.Child("appProtocol"), *port.AppProtocol, msg))
			}
		}
	}
	return errs
}

func endpointPortNameMsgs(name string) []string {
	if name == "" {
		return nil
	}
	return registry.IsDNS1123Label(name)
}

func validateEndpointHints(h *discoveryv1.EndpointHints, path *field.Path) field.ErrorList {
	zonesPath := path.Child("forZones")
	if len(h.ForZones) > maxEndpointHints {
		return field.ErrorList{field.TooMany(zonesPath, len(h.ForZones), maxEndpointHints)}
	}
	var errs field.ErrorList
	zones := make([]string, 0, len(h.ForZones))
	for i, z := range h.ForZones {
		p := zonesPath.Index(i).Child("name")
		if slices.Contains(zones, z.Name) {
			errs = append(errs, field.Duplicate(p, z.Name))
		} else {
			zones = append(zones, z.Name)
		}
		for _, msg := range registry.IsValidLabelValue(z.Name) {
			errs = append(errs, field.Invalid(p, z.Name, msg))
		}
	}
	nodesPath := path.Child("forNodes")
	if len(h.ForNodes) > maxEndpointHints {
		return append(errs, field.TooMany(nodesPath, len(h.ForNodes), maxEndpointHints))
	}
	nodes := make([]string, 0, len(h.ForNodes))
	for i, n := range h.ForNodes {
		p := nodesPath.Index(i).Child("name")
		if slices.Contains(nodes, n.Name) {
			errs = append(errs, field.Duplicate(p, n.Name))
		} else {
			nodes = append(nodes, n.Name)
		}
		for _, msg := range apivalidation.NameIsDNSSubdomain(n.Name, false) {
			errs = append(errs, field.Invalid(p, n.Name, msg))
		}
	}
	return errs
}
