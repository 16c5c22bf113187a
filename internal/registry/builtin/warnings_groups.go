package builtin

import (
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The warnings of the strategies of the API groups: networking,
// discovery, resource and admissionregistration.

// ingressWarningsOnCreate warns about the class annotation of an ingress
// without spec.ingressClassName; upstream warns on create only.
func ingressWarningsOnCreate(o runtime.Object) []string {
	ing := o.(*networkingv1.Ingress)
	const annotation = "kubernetes.io/ingress.class"
	if _, ok := ing.Annotations[annotation]; ok && ing.Spec.IngressClassName == nil {
		return []string{fmt.Sprintf("annotation %q is deprecated, please use 'spec.ingressClassName' instead", annotation)}
	}
	return nil
}

// networkPolicyWarnings warns, on create and update, about non-canonical
// CIDRs in the ingress and egress rules' IP blocks.
func networkPolicyWarnings(o runtime.Object) []string {
	spec := &o.(*networkingv1.NetworkPolicy).Spec
	var w []string
	for i, rule := range spec.Ingress {
		for j, peer := range rule.From {
			w = append(w, ipBlockWarnings(field.NewPath("spec").Child("ingress").Index(i).Child("from").Index(j).Child("ipBlock"), peer.IPBlock)...)
		}
	}
	for i, rule := range spec.Egress {
		for j, peer := range rule.To {
			w = append(w, ipBlockWarnings(field.NewPath("spec").Child("egress").Index(i).Child("to").Index(j).Child("ipBlock"), peer.IPBlock)...)
		}
	}
	return w
}

func ipBlockWarnings(path *field.Path, b *networkingv1.IPBlock) []string {
	if b == nil {
		return nil
	}
	w := cidrWarnings(path.Child("cidr"), b.CIDR)
	for k, except := range b.Except {
		w = append(w, cidrWarnings(path.Child("except").Index(k), except)...)
	}
	return w
}

// endpointSliceWarningsOnCreate warns about the deprecated FQDN address
// type, then about non-canonical addresses.
func endpointSliceWarningsOnCreate(o runtime.Object) []string {
	var w []string
	if o.(*discoveryv1.EndpointSlice).AddressType == discoveryv1.AddressTypeFQDN {
		w = append(w, fmt.Sprintf("%s: FQDN endpoints are deprecated", field.NewPath("spec").Child("addressType")))
	}
	return append(w, endpointSliceIPWarnings(o)...)
}

// endpointSliceIPWarnings warns about non-canonical addresses, unless
// one of the endpoint slice controllers wrote the slice.
func endpointSliceIPWarnings(o runtime.Object) []string {
	eps := o.(*discoveryv1.EndpointSlice)
	switch eps.Labels[discoveryv1.LabelManagedBy] {
	case "endpointslice-controller.k8s.io", "endpointslicemirroring-controller.k8s.io":
		return nil
	}
	var w []string
	for i, ep := range eps.Endpoints {
		for j, addr := range ep.Addresses {
			w = append(w, ipWarnings(field.NewPath("endpoints").Index(i).Child("addresses").Index(j), addr)...)
		}
	}
	return w
}

// resourceSliceWarnings warns, on create and update, about a driver name
// with upper case letters.
func resourceSliceWarnings(o runtime.Object) []string {
	driver := o.(*resourcev1.ResourceSlice).Spec.Driver
	if driver != strings.ToLower(driver) {
		return []string{fmt.Sprintf("spec.driver: driver names should be lowercase; %q contains uppercase characters", driver)}
	}
	return nil
}

// staticSuffixWarnings is upstream's WarningsForStaticSuffix, which the
// admission strategies use on update only (with the
// ManifestBasedAdmissionControlConfig gate on in 1.37, validation refuses
// such a name on create).
func staticSuffixWarnings(o, _ runtime.Object) []string {
	const suffix = ".static.k8s.io"
	if strings.HasSuffix(o.(metav1.Object).GetName(), suffix) {
		return []string{fmt.Sprintf("metadata.name: names ending with %q are reserved for static manifest-based configurations and cannot be managed via the API", suffix)}
	}
	return nil
}

// webhookExcluded are the resources admission webhooks never see
// (upstream's kubeapiserver/admission/exclusion.Excluded).
var webhookExcluded = sets.New(
	schema.GroupResource{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"},
	schema.GroupResource{Group: "authentication.k8s.io", Resource: "tokenreviews"},
	schema.GroupResource{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"},
	schema.GroupResource{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"},
	schema.GroupResource{Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"},
	schema.GroupResource{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"},
)

// webhookRuleWarnings is WarningsForValidatingWebhookRules and its
// mutating twin (the ExcludeAdmissionWebhookVirtualResources gate is on in
// 1.37): rules that name, without wildcards, a resource webhooks never
// see.
func webhookRuleWarnings(rules func(i int) []admissionv1.RuleWithOperations, n int) []string {
	var w []string
	for i := range n {
		path := field.NewPath("webhooks").Index(i).Child("rules")
		for j, rule := range rules(i) {
			for _, gr := range excludedResourcesNamed(rule.APIGroups, rule.Resources) {
				w = append(w, fmt.Sprintf("%s: %s is excluded from admission webhooks; this rule will have no effect", path.Index(j), gr))
			}
		}
	}
	return w
}

// excludedResourcesNamed are the excluded resources a rule names, once
// each, in the rule's order; a rule with a wildcard names none.
func excludedResourcesNamed(groups, resources []string) []schema.GroupResource {
	if slices.Contains(groups, "*") || slices.Contains(resources, "*") {
		return nil
	}
	var out []schema.GroupResource
	for _, g := range groups {
		for _, r := range resources {
			gr := schema.GroupResource{Group: g, Resource: r}
			if webhookExcluded.Has(gr) && !slices.Contains(out, gr) {
				out = append(out, gr)
			}
		}
	}
	return out
}

func validatingWebhookRuleWarnings(o runtime.Object) []string {
	hooks := o.(*admissionv1.ValidatingWebhookConfiguration).Webhooks
	return webhookRuleWarnings(func(i int) []admissionv1.RuleWithOperations { return hooks[i].Rules }, len(hooks))
}

func mutatingWebhookRuleWarnings(o runtime.Object) []string {
	hooks := o.(*admissionv1.MutatingWebhookConfiguration).Webhooks
	return webhookRuleWarnings(func(i int) []admissionv1.RuleWithOperations { return hooks[i].Rules }, len(hooks))
}

// webhookWarningsOnUpdate is the webhook configuration strategies'
// WarningsOnUpdate: the static suffix, then the rules.
func webhookWarningsOnUpdate(rules func(runtime.Object) []string) func(o, old runtime.Object) []string {
	return func(o, old runtime.Object) []string {
		return append(staticSuffixWarnings(o, old), rules(o)...)
	}
}
