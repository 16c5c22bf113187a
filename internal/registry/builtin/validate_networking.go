package builtin

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/regis-dev/regis/internal/registry"
)

// Ingresses (k8s.io/kubernetes pkg/apis/networking/validation and
// pkg/registry/networking/ingress, v1.37). RelaxedServiceNameValidation
// is locked on: a backend's service name is a DNS label. The options
// upstream derives from the stored ingress only relax rules for data
// stored before the rules existed, which regis never stored.

const annotationIngressClass = "kubernetes.io/ingress.class"

var (
	ingressPathTypes        = []string{"Exact", "ImplementationSpecific", "Prefix"}
	invalidIngressPathSeqs  = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidIngressPathSuffs = []string{"/..", "/."}
)

// validateIngress is upstream's validateIngress: the spec, and the load
// balancer status /status writes (upstream's
// ValidateIngressStatusUpdate); a create clears the status and an update
// of the main resource keeps the stored one.
func validateIngress(o runtime.Object) field.ErrorList {
	ing := o.(*networkingv1.Ingress)
	errs := validateIngressSpec(&ing.Spec, field.NewPath("spec"))
	return append(errs, validateIngressLoadBalancer(&ing.Status.LoadBalancer, field.NewPath("status", "loadBalancer"))...)
}

// validateIngressCreate is the rest of upstream's ValidateIngressCreate:
// the class annotation must match spec.ingressClassName.
func validateIngressCreate(o runtime.Object) field.ErrorList {
	ing := o.(*networkingv1.Ingress)
	v, ok := ing.Annotations[annotationIngressClass]
	if ok && ing.Spec.IngressClassName != nil && v != *ing.Spec.IngressClassName {
		return field.ErrorList{field.Invalid(field.NewPath("annotations").Child(annotationIngressClass), v,
			"must match `ingressClassName` when both are specified")}
	}
	return nil
}

// validateIngressUpdate adds nothing: upstream's ValidateIngressUpdate is
// the create validation but for the class annotation.
func validateIngressUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validateIngressSpec(s *networkingv1.IngressSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.Rules) == 0 && s.DefaultBackend == nil {
		errs = append(errs, field.Invalid(path, s.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if s.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(s.DefaultBackend, path.Child("defaultBackend"))...)
	}
	for i := range s.Rules {
		errs = append(errs, validateIngressRule(&s.Rules[i], path.Child("rules").Index(i))...)
	}
	for i, tls := range s.TLS {
		errs = append(errs, validateIngressTLS(tls, path.Child("tls").Index(i))...)
	}
	if s.IngressClassName != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*s.IngressClassName, false) {
			errs = append(errs, field.Invalid(path.Child("ingressClassName"), *s.IngressClassName, msg))
		}
	}
	return errs
}

func validateIngressTLS(tls networkingv1.IngressTLS, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, host := range tls.Hosts {
		check := registry.IsDNS1123Subdomain
		if strings.Contains(host, "*") {
			check = validation.IsWildcardDNS1123Subdomain
		}
		for _, msg := range check(host) {
			errs = append(errs, field.Invalid(path.Child("hosts").Index(i), host, msg))
		}
	}
	if tls.SecretName != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(tls.SecretName, false) {
			errs = append(errs, field.Invalid(path.Child("secretName"), tls.SecretName, msg))
		}
	}
	return errs
}

func validateIngressRule(r *networkingv1.IngressRule, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if host := r.Host; host != "" {
		hostPath := path.Child("host")
		if netutils.ParseIPSloppy(host) != nil {
			errs = append(errs, field.Invalid(hostPath, host, "must be a DNS name, not an IP address"))
		}
		check := registry.IsDNS1123Subdomain
		if strings.Contains(host, "*") {
			check = validation.IsWildcardDNS1123Subdomain
		}
		for _, msg := range check(host) {
			errs = append(errs, field.Invalid(hostPath, host, msg))
		}
	}
	if r.HTTP == nil {
		return errs
	}
	pathsPath := path.Child("http", "paths")
	if len(r.HTTP.Paths) == 0 {
		errs = append(errs, field.Required(pathsPath, ""))
	}
	for i := range r.HTTP.Paths {
		errs = append(errs, validateIngressPath(&r.HTTP.Paths[i], pathsPath.Index(i))...)
	}
	return errs
}

func validateIngressPath(p *networkingv1.HTTPIngressPath, path *field.Path) field.ErrorList {
	if p.PathType == nil {
		return field.ErrorList{field.Required(path.Child("pathType"), "pathType must be specified")}
	}
	var errs field.ErrorList
	pathPath := path.Child("path")
	switch *p.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, field.Invalid(pathPath, p.Path, "must be an absolute path"))
		}
		for _, seq := range invalidIngressPathSeqs {
			if strings.Contains(p.Path, seq) {
				errs = append(errs, field.Invalid(pathPath, p.Path, fmt.Sprintf("must not contain '%s'", seq)))
			}
		}
		for _, suffix := range invalidIngressPathSuffs {
			if strings.HasSuffix(p.Path, suffix) {
				errs = append(errs, field.Invalid(pathPath, p.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, field.Invalid(pathPath, p.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, field.NotSupported(path.Child("pathType"), *p.PathType, ingressPathTypes))
	}
	return append(errs, validateIngressBackend(&p.Backend, path.Child("backend"))...)
}

func validateIngressBackend(b *networkingv1.IngressBackend, path *field.Path) field.ErrorList {
	switch {
	case b.Resource != nil && b.Service != nil:
		return field.ErrorList{field.Invalid(path, "", "cannot set both resource and service backends")}
	case b.Resource != nil:
		return validateIngressResourceBackend(b.Resource, path.Child("resource"))
	case b.Service != nil:
		return validateIngressServiceBackend(b.Service, path)
	}
	return field.ErrorList{field.Invalid(path, "", "resource or service backend is required")}
}

func validateIngressServiceBackend(s *networkingv1.IngressServiceBackend, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	namePath := path.Child("service", "name")
	if s.Name == "" {
		errs = append(errs, field.Required(namePath, ""))
	} else {
		for _, msg := range apivalidation.NameIsDNSLabel(s.Name, false) {
			errs = append(errs, field.Invalid(namePath, s.Name, msg))
		}
	}
	port := s.Port
	switch {
	case port.Name != "" && port.Number != 0:
		errs = append(errs, field.Invalid(path, "", "cannot set both port name & port number"))
	case port.Name != "":
		for _, msg := range registry.IsValidPortName(port.Name) {
			errs = append(errs, field.Invalid(path.Child("service", "port", "name"), port.Name, msg))
		}
	case port.Number != 0:
		for _, msg := range validation.IsValidPortNum(int(port.Number)) {
			errs = append(errs, field.Invalid(path.Child("service", "port", "number"), port.Number, msg))
		}
	default:
		errs = append(errs, field.Required(path, "port name or number is required"))
	}
	return errs
}

// validateIngressResourceBackend is upstream's
// validateIngressTypedLocalObjectReference.
func validateIngressResourceBackend(r *corev1.TypedLocalObjectReference, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.APIGroup != nil {
		for _, msg := range registry.IsDNS1123Subdomain(*r.APIGroup) {
			errs = append(errs, field.Invalid(path.Child("apiGroup"), *r.APIGroup, msg))
		}
	}
	errs = append(errs, validateIngressRefSegment(r.Kind, path.Child("kind"))...)
	return append(errs, validateIngressRefSegment(r.Name, path.Child("name"))...)
}

func validateIngressRefSegment(v string, path *field.Path) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range content.IsPathSegmentName(v) {
		errs = append(errs, field.Invalid(path, v, msg))
	}
	return errs
}

// validateIngressLoadBalancer is upstream's
// ValidateIngressLoadBalancerStatus without the stored IPs, which all
// passed the strict IP validation.
func validateIngressLoadBalancer(s *networkingv1.IngressLoadBalancerStatus, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, in := range s.Ingress {
		p := path.Child("ingress").Index(i)
		if in.IP != "" {
			errs = append(errs, validation.IsValidIPForLegacyField(p.Child("ip"), in.IP, true, nil)...)
		}
		if in.Hostname == "" {
			continue
		}
		for _, msg := range registry.IsDNS1123Subdomain(in.Hostname) {
			errs = append(errs, field.Invalid(p.Child("hostname"), in.Hostname, msg))
		}
		if netutils.ParseIPSloppy(in.Hostname) != nil {
			errs = append(errs, field.Invalid(p.Child("hostname"), in.Hostname, "must be a DNS name, not an IP address"))
		}
	}
	return errs
}
