package builtin

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Services (k8s.io/kubernetes pkg/apis/core/validation, v1.37).

func validateService(o runtime.Object) field.ErrorList {
	s := o.(*corev1.Service)
	var errs field.ErrorList
	path := field.NewPath("spec")
	switch s.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		errs = append(errs, field.NotSupported(path.Child("type"), s.Spec.Type, []corev1.ServiceType{
			corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort}))
	}
	errs = append(errs, validateIPFamilies(s)...)
	errs = append(errs, validateServiceSpec(s, path)...)
	errs = append(errs, validateServicePorts(s, path)...)
	return append(errs, validateLoadBalancerStatus(s, nil)...)
}

// validateServiceUpdate is the part of upstream's ValidateServiceUpdate
// that compares with the stored service: allocated cluster IPs and IP
// families may not change (they may be added or released).
func validateServiceUpdate(o, old runtime.Object) field.ErrorList {
	s, prev := o.(*corev1.Service), old.(*corev1.Service)
	var errs field.ErrorList
	// Upstream's validateServiceExternalTrafficFieldsUpdate.
	if needsHealthCheck(prev) && needsHealthCheck(s) && s.Spec.HealthCheckNodePort != prev.Spec.HealthCheckNodePort {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "healthCheckNodePort"), "field is immutable"))
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName || prev.Spec.Type == corev1.ServiceTypeExternalName {
		return errs
	}
	headless, wasHeadless := isHeadless(s), isHeadless(prev)
	ipsPath := field.NewPath("spec", "clusterIPs").Index(0)
	ips, prevIPs := s.Spec.ClusterIPs, prev.Spec.ClusterIPs
	if !headless || !wasHeadless {
		switch {
		case len(prevIPs) == len(ips):
			for i, ip := range prevIPs {
				if ip != ips[i] {
					errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIPs").Index(i), ips, "may not change once set"))
				}
			}
		case len(prevIPs) > len(ips):
			if len(ips) == 0 {
				errs = append(errs, field.Invalid(ipsPath, ips, "primary clusterIP can not be unset"))
			}
			if len(prevIPs) > 0 && len(ips) > 0 && ips[0] != prevIPs[0] {
				errs = append(errs, field.Invalid(ipsPath, ips, "may not change once set"))
			}
			if len(ips) == 1 && (s.Spec.IPFamilyPolicy == nil || *s.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack) {
				errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), s.Spec.IPFamilyPolicy,
					"must be set to 'SingleStack' when releasing the secondary clusterIP"))
			}
		default:
			if len(prevIPs) > 0 && ips[0] != prevIPs[0] {
				errs = append(errs, field.Invalid(ipsPath, ips, "may not change once set"))
			}
		}
	}
	if headless || wasHeadless {
		return errs
	}
	fams, prevFams := s.Spec.IPFamilies, prev.Spec.IPFamilies
	famPath := field.NewPath("spec", "ipFamilies").Index(0)
	switch {
	case len(prevFams) == len(fams):
		for i, f := range prevFams {
			if f != fams[i] {
				errs = append(errs, field.Invalid(famPath, fams, "may not change once set"))
			}
		}
	case len(prevFams) > len(fams):
		if len(ips) == 0 {
			errs = append(errs, field.Invalid(famPath, fams, "primary ipFamily can not be unset"))
		}
		if len(fams) > 0 && fams[0] != prevFams[0] {
			errs = append(errs, field.Invalid(famPath, ips, "may not change once set"))
		}
		if len(fams) == 1 && (s.Spec.IPFamilyPolicy == nil || *s.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack) {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), s.Spec.IPFamilyPolicy,
				"must be set to 'SingleStack' when releasing the secondary ipFamily"))
		}
	default:
		if len(prevFams) > 0 && len(fams) > 0 && fams[0] != prevFams[0] {
			errs = append(errs, field.Invalid(famPath, ips, "may not change once set"))
		}
	}
	return errs
}

func isHeadless(s *corev1.Service) bool {
	return len(s.Spec.ClusterIPs) == 1 && s.Spec.ClusterIPs[0] == corev1.ClusterIPNone
}

// validateLoadBalancerStatus is upstream's ValidateLoadBalancerStatus (the
// /status check; the main resource keeps the stored status, valid
// already, or clears it when the type is no longer LoadBalancer).
func validateLoadBalancerStatus(s *corev1.Service, old []corev1.LoadBalancerIngress) field.ErrorList {
	path := field.NewPath("status", "loadBalancer", "ingress")
	ingress := s.Status.LoadBalancer.Ingress
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		if len(ingress) > 0 {
			return field.ErrorList{field.Forbidden(path, "may only be used when `spec.type` is 'LoadBalancer'")}
		}
		return nil
	}
	var errs field.ErrorList
	var oldIPs []string
	for _, in := range old {
		if in.IP != "" {
			oldIPs = append(oldIPs, in.IP)
		}
	}
	for i, in := range ingress {
		p := path.Index(i)
		if in.IP != "" {
			// StrictIPCIDRValidation is on by default.
			errs = append(errs, validation.IsValidIPForLegacyField(p.Child("ip"), in.IP, true, oldIPs)...)
		}
		switch {
		case in.IPMode == nil && in.IP != "":
			errs = append(errs, field.Required(p.Child("ipMode"), "must be specified when `ip` is set"))
		case in.IPMode != nil && in.IP == "":
			errs = append(errs, field.Forbidden(p.Child("ipMode"), "may not be specified when `ip` is not set"))
		case in.IPMode != nil && *in.IPMode != corev1.LoadBalancerIPModeProxy && *in.IPMode != corev1.LoadBalancerIPModeVIP:
			errs = append(errs, field.NotSupported(p.Child("ipMode"), in.IPMode,
				[]corev1.LoadBalancerIPMode{corev1.LoadBalancerIPModeProxy, corev1.LoadBalancerIPModeVIP}))
		}
		if in.Hostname != "" {
			for _, msg := range registry.IsDNS1123Subdomain(in.Hostname) {
				errs = append(errs, field.Invalid(p.Child("hostname"), in.Hostname, msg))
			}
			if _, err := netip.ParseAddr(in.Hostname); err == nil {
				errs = append(errs, field.Invalid(p.Child("hostname"), in.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return errs
}

func validateServiceSpec(s *corev1.Service, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		name := strings.TrimSuffix(s.Spec.ExternalName, ".")
		if s.Spec.ExternalName == "" {
			errs = append(errs, field.Required(path.Child("externalName"), ""))
		} else {
			for _, msg := range registry.IsDNS1123Subdomain(name) {
				errs = append(errs, field.Invalid(path.Child("externalName"), s.Spec.ExternalName, msg))
			}
		}
	} else if len(s.Spec.Ports) == 0 && s.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(path.Child("ports"), ""))
	}
	ips := s.Spec.ClusterIPs
	if len(ips) == 0 && s.Spec.ClusterIP != "" {
		ips = []string{s.Spec.ClusterIP} // upstream's allocator fills clusterIPs before validation
	}
	for i, ip := range ips {
		if ip == corev1.ClusterIPNone {
			if s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer {
				errs = append(errs, field.Invalid(path.Child("clusterIPs").Index(i), ip,
					fmt.Sprintf("may not be set to 'None' for %s services", s.Spec.Type)))
			}
			continue
		}
		errs = append(errs, validation.IsValidIPForLegacyField(path.Child("clusterIPs").Index(i), ip, true, nil)...)
	}
	errs = append(errs, metav1validation.ValidateLabels(s.Spec.Selector, path.Child("selector"))...)
	switch s.Spec.SessionAffinity {
	case corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone, "":
	default:
		errs = append(errs, field.NotSupported(path.Child("sessionAffinity"), s.Spec.SessionAffinity,
			[]corev1.ServiceAffinity{corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone}))
	}
	if p := s.Spec.IPFamilyPolicy; p != nil {
		switch *p {
		case corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack:
		default:
			errs = append(errs, field.NotSupported(path.Child("ipFamilyPolicy"), *p, []corev1.IPFamilyPolicy{
				corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack, corev1.IPFamilyPolicySingleStack}))
		}
	}
	if len(s.Spec.LoadBalancerSourceRanges) > 0 && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(path.Child("LoadBalancerSourceRanges"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if s.Spec.AllocateLoadBalancerNodePorts != nil && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(path.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.Spec.AllocateLoadBalancerNodePorts == nil {
		// Upstream's path has no "spec".
		errs = append(errs, field.Required(field.NewPath("allocateLoadBalancerNodePorts"), ""))
	}
	return append(errs, validateExternalTrafficPolicy(s, path)...)
}

// validateExternalTrafficPolicy is upstream's
// validateServiceExternalTrafficPolicy. A load balancer with the Local
// policy needs a health check node port; regis allocates it after
// validation (upstream before), so a missing one is not refused here.
func validateExternalTrafficPolicy(s *corev1.Service, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch policy := s.Spec.ExternalTrafficPolicy; {
	case !externallyAccessible(s):
		if policy != "" {
			errs = append(errs, field.Invalid(path.Child("externalTrafficPolicy"), policy, "may only be set for externally-accessible services"))
		}
	case policy == "":
		errs = append(errs, field.Required(path.Child("externalTrafficPolicy"), ""))
	case policy != corev1.ServiceExternalTrafficPolicyCluster && policy != corev1.ServiceExternalTrafficPolicyLocal:
		errs = append(errs, field.NotSupported(path.Child("externalTrafficPolicy"), policy,
			[]corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}))
	}
	hc := s.Spec.HealthCheckNodePort
	switch {
	case !needsHealthCheck(s):
		if hc != 0 {
			errs = append(errs, field.Invalid(path.Child("healthCheckNodePort"), hc,
				"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		}
	case hc != 0:
		for _, msg := range validation.IsValidPortNum(int(hc)) {
			errs = append(errs, field.Invalid(path.Child("healthCheckNodePort"), hc, msg))
		}
	}
	return errs
}

func validateServicePorts(s *corev1.Service, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	seen := map[corev1.ServicePort]bool{}
	for i, p := range s.Spec.Ports {
		pp := path.Child("ports").Index(i)
		if len(s.Spec.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		} else if p.Name != "" {
			for _, msg := range registry.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), p.Name, msg))
			}
			if names.Has(p.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), p.Name))
			}
			names.Insert(p.Name)
		}
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(pp.Child("port"), p.Port, msg))
		}
		switch p.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		case "":
			errs = append(errs, field.Required(pp.Child("protocol"), ""))
		default:
			errs = append(errs, field.NotSupported(pp.Child("protocol"), p.Protocol,
				[]corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}))
		}
		if p.TargetPort.Type == intstr.String && p.TargetPort.StrVal != "" {
			for _, msg := range registry.IsValidPortName(p.TargetPort.StrVal) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), p.TargetPort.StrVal, msg))
			}
		} else {
			for _, msg := range validation.IsValidPortNum(p.TargetPort.IntValue()) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), p.TargetPort, msg))
			}
		}
		if s.Spec.Type == corev1.ServiceTypeClusterIP && p.NodePort != 0 {
			errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
		}
		key := corev1.ServicePort{Port: p.Port, Protocol: p.Protocol}
		if seen[key] {
			errs = append(errs, field.Duplicate(pp, internalJSON{key}))
		}
		seen[key] = true
	}
	return errs
}
