package builtin

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/validate"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/regis-dev/regis/internal/registry"
)

// Network policies (k8s.io/kubernetes pkg/apis/networking/validation and
// pkg/registry/networking/networkpolicy, v1.37). An ipBlock's required
// cidr is checked declaratively (beta, enforced): the error comes last.
// The update options upstream derives from the stored policy (invalid
// selector label values, invalid CIDRs) only keep data stored before the
// rules existed, which regis never stored.

func validateNetworkPolicy(o runtime.Object) field.ErrorList {
	s := &o.(*networkingv1.NetworkPolicy).Spec
	path := field.NewPath("spec")
	errs := metavalidation.ValidateLabelSelector(&s.PodSelector, metavalidation.LabelSelectorValidationOptions{}, path.Child("podSelector"))
	var required field.ErrorList
	for i, rule := range s.Ingress {
		rulePath := path.Child("ingress").Index(i)
		errs = append(errs, validateNetworkPolicyPorts(rule.Ports, rulePath.Child("ports"))...)
		for j := range rule.From {
			errs = append(errs, validateNetworkPolicyPeer(&rule.From[j], rulePath.Child("from").Index(j))...)
			required = append(required, requiredIPBlockCIDR(&rule.From[j], rulePath.Child("from").Index(j))...)
		}
	}
	for i, rule := range s.Egress {
		rulePath := path.Child("egress").Index(i)
		errs = append(errs, validateNetworkPolicyPorts(rule.Ports, rulePath.Child("ports"))...)
		for j := range rule.To {
			errs = append(errs, validateNetworkPolicyPeer(&rule.To[j], rulePath.Child("to").Index(j))...)
			required = append(required, requiredIPBlockCIDR(&rule.To[j], rulePath.Child("to").Index(j))...)
		}
	}
	errs = append(errs, validatePolicyTypes(s.PolicyTypes, path.Child("policyTypes"))...)
	return mergeDeclarative(errs, required)
}

// validateNetworkPolicyUpdate adds nothing: upstream's update validation
// is the create validation with relaxed options.
func validateNetworkPolicyUpdate(o, old runtime.Object) field.ErrorList { return nil }

func validatePolicyTypes(types []networkingv1.PolicyType, path *field.Path) field.ErrorList {
	if len(types) > 2 {
		return field.ErrorList{field.Invalid(path, &types, "may not specify more than two policyTypes")}
	}
	var errs field.ErrorList
	for i, t := range types {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(path.Index(i), t, []string{"Ingress", "Egress"}))
		}
	}
	return errs
}

func validateNetworkPolicyPorts(ports []networkingv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range ports {
		errs = append(errs, validateNetworkPolicyPort(&ports[i], path.Index(i))...)
	}
	return errs
}

func validateNetworkPolicyPort(p *networkingv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP && *p.Protocol != corev1.ProtocolUDP && *p.Protocol != corev1.ProtocolSCTP {
		errs = append(errs, field.NotSupported(path.Child("protocol"), *p.Protocol, []string{"TCP", "UDP", "SCTP"}))
	}
	endPath := path.Child("endPort")
	switch {
	case p.Port == nil:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(endPath, *p.EndPort, "may not be specified when `port` is not specified"))
		}
	case p.Port.Type == intstr.Int:
		for _, msg := range validation.IsValidPortNum(int(p.Port.IntVal)) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port.IntVal, msg))
		}
		if p.EndPort == nil {
			break
		}
		if *p.EndPort < p.Port.IntVal {
			errs = append(errs, field.Invalid(endPath, *p.EndPort, "must be greater than or equal to `port`"))
		}
		for _, msg := range validation.IsValidPortNum(int(*p.EndPort)) {
			errs = append(errs, field.Invalid(endPath, *p.EndPort, msg))
		}
	default:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(endPath, *p.EndPort, "may not be specified when `port` is non-numeric"))
		}
		for _, msg := range registry.IsValidPortName(p.Port.StrVal) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port.StrVal, msg))
		}
	}
	return errs
}

func validateNetworkPolicyPeer(p *networkingv1.NetworkPolicyPeer, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	peers := 0
	opts := metavalidation.LabelSelectorValidationOptions{}
	if p.PodSelector != nil {
		peers++
		errs = append(errs, metavalidation.ValidateLabelSelector(p.PodSelector, opts, path.Child("podSelector"))...)
	}
	if p.NamespaceSelector != nil {
		peers++
		errs = append(errs, metavalidation.ValidateLabelSelector(p.NamespaceSelector, opts, path.Child("namespaceSelector"))...)
	}
	if p.IPBlock != nil {
		peers++
		errs = append(errs, validateIPBlock(p.IPBlock, path.Child("ipBlock"))...)
	}
	if peers == 0 {
		errs = append(errs, field.Required(path, "must specify a peer"))
	} else if peers > 1 && p.IPBlock != nil {
		errs = append(errs, field.Forbidden(path, "may not specify both ipBlock and another peer"))
	}
	return errs
}

// validateIPBlock is upstream's ValidateIPBlock (StrictIPCIDRValidation
// is on by default).
func validateIPBlock(b *networkingv1.IPBlock, path *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(path.Child("cidr"), "").MarkCoveredByDeclarative()}
	}
	errs := validation.IsValidCIDRForLegacyField(path.Child("cidr"), b.CIDR, true, nil)
	_, cidr, err := netutils.ParseCIDRSloppy(b.CIDR)
	if err != nil {
		return errs
	}
	cidrBits, _ := cidr.Mask.Size()
	for i, s := range b.Except {
		p := path.Child("except").Index(i)
		errs = append(errs, validation.IsValidCIDRForLegacyField(p, s, true, nil)...)
		_, except, err := netutils.ParseCIDRSloppy(s)
		if err != nil {
			continue
		}
		exceptBits, _ := except.Mask.Size()
		if !cidr.Contains(except.IP) || cidrBits >= exceptBits {
			errs = append(errs, field.Invalid(p, s, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

// requiredIPBlockCIDR is the declarative +required on IPBlock.cidr.
func requiredIPBlockCIDR(p *networkingv1.NetworkPolicyPeer, path *field.Path) field.ErrorList {
	if p.IPBlock == nil || p.IPBlock.CIDR != "" {
		return nil
	}
	return field.ErrorList{field.Required(path.Child("ipBlock", "cidr"), "").MarkBeta()}
}

// mergeDeclarative does what the API server does with the errors of a
// strategy that has declarative validation (DeclarativeValidationBeta is
// on): the handwritten errors a declarative one covers are dropped, and
// the declarative errors (marked beta) follow the others.
func mergeDeclarative(handwritten, declarative field.ErrorList) field.ErrorList {
	errs := validate.FilterCoveredHandwrittenErrors(context.Background(), handwritten, declarative, true)
	return append(errs, declarative...)
}
