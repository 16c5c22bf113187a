package builtin

import (
	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// admissionRows are admissionregistration.k8s.io/v1: webhook
// configurations and admission policies with their bindings, all
// cluster-scoped, in the api-extensions category, with a generation, and
// updated only with a resourceVersion. Their strategies warn on update
// about a name with the suffix reserved for static configurations, and the
// webhook configurations about rules that name resources webhooks never
// see.
func admissionRows() []*registry.Resource {
	const g, v = "admissionregistration.k8s.io", "v1"
	row := func(resource, kind string, newFn, newList func() runtime.Object, def func(runtime.Object), cols []registry.Column) *registry.Resource {
		return &registry.Resource{Group: g, Version: v, Resource: resource, Kind: kind,
			Categories: []string{"api-extensions"}, New: newFn, NewList: newList, Generation: true,
			RequireResourceVersion: true, Default: def, Columns: cols, WarningsOnUpdate: staticSuffixWarnings}
	}
	vap := row("validatingadmissionpolicies", "ValidatingAdmissionPolicy",
		newFn[admissionv1.ValidatingAdmissionPolicy], newFn[admissionv1.ValidatingAdmissionPolicyList],
		defaultValidatingAdmissionPolicy, validatingPolicyColumns)
	vap.Status = true
	vwc := row("validatingwebhookconfigurations", "ValidatingWebhookConfiguration",
		newFn[admissionv1.ValidatingWebhookConfiguration], newFn[admissionv1.ValidatingWebhookConfigurationList],
		defaultValidatingWebhooks, webhookColumns(func(o runtime.Object) int {
			return len(o.(*admissionv1.ValidatingWebhookConfiguration).Webhooks)
		}))
	vwc.WarningsOnCreate, vwc.WarningsOnUpdate = validatingWebhookRuleWarnings, webhookWarningsOnUpdate(validatingWebhookRuleWarnings)
	mwc := row("mutatingwebhookconfigurations", "MutatingWebhookConfiguration",
		newFn[admissionv1.MutatingWebhookConfiguration], newFn[admissionv1.MutatingWebhookConfigurationList],
		defaultMutatingWebhooks, webhookColumns(func(o runtime.Object) int {
			return len(o.(*admissionv1.MutatingWebhookConfiguration).Webhooks)
		}))
	mwc.WarningsOnCreate, mwc.WarningsOnUpdate = mutatingWebhookRuleWarnings, webhookWarningsOnUpdate(mutatingWebhookRuleWarnings)
	return []*registry.Resource{
		vwc,
		mwc,
		vap,
		row("validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding",
			newFn[admissionv1.ValidatingAdmissionPolicyBinding], newFn[admissionv1.ValidatingAdmissionPolicyBindingList],
			func(o runtime.Object) {
				defaultMatchResources(o.(*admissionv1.ValidatingAdmissionPolicyBinding).Spec.MatchResources)
			},
			bindingColumns(func(o runtime.Object) (string, *admissionv1.ParamRef) {
				b := o.(*admissionv1.ValidatingAdmissionPolicyBinding)
				return b.Spec.PolicyName, b.Spec.ParamRef
			})),
		row("mutatingadmissionpolicies", "MutatingAdmissionPolicy",
			newFn[admissionv1.MutatingAdmissionPolicy], newFn[admissionv1.MutatingAdmissionPolicyList],
			defaultMutatingAdmissionPolicy, mutatingPolicyColumns),
		row("mutatingadmissionpolicybindings", "MutatingAdmissionPolicyBinding",
			newFn[admissionv1.MutatingAdmissionPolicyBinding], newFn[admissionv1.MutatingAdmissionPolicyBindingList],
			func(o runtime.Object) {
				defaultMatchResources(o.(*admissionv1.MutatingAdmissionPolicyBinding).Spec.MatchResources)
			},
			bindingColumns(func(o runtime.Object) (string, *admissionv1.ParamRef) {
				b := o.(*admissionv1.MutatingAdmissionPolicyBinding)
				return b.Spec.PolicyName, b.Spec.ParamRef
			})),
	}
}

// The defaults of k8s.io/kubernetes pkg/apis/admissionregistration/v1.

type webhookDefaults struct {
	failurePolicy     **admissionv1.FailurePolicyType
	matchPolicy       **admissionv1.MatchPolicyType
	namespaceSelector **metav1.LabelSelector
	objectSelector    **metav1.LabelSelector
	timeoutSeconds    **int32
	service           *admissionv1.ServiceReference
	rules             []admissionv1.RuleWithOperations
}

func (d webhookDefaults) apply() {
	if *d.failurePolicy == nil {
		*d.failurePolicy = ptr(admissionv1.Fail)
	}
	if *d.matchPolicy == nil {
		*d.matchPolicy = ptr(admissionv1.Equivalent)
	}
	if *d.namespaceSelector == nil {
		*d.namespaceSelector = &metav1.LabelSelector{}
	}
	if *d.objectSelector == nil {
		*d.objectSelector = &metav1.LabelSelector{}
	}
	if *d.timeoutSeconds == nil {
		*d.timeoutSeconds = ptr(int32(10))
	}
	if d.service != nil && d.service.Port == nil {
		d.service.Port = ptr(int32(443))
	}
	for i := range d.rules {
		defaultRule(&d.rules[i].Rule)
	}
}

func defaultRule(r *admissionv1.Rule) {
	if r.Scope == nil {
		r.Scope = ptr(admissionv1.AllScopes)
	}
}

func defaultValidatingWebhooks(o runtime.Object) {
	for i := range o.(*admissionv1.ValidatingWebhookConfiguration).Webhooks {
		w := &o.(*admissionv1.ValidatingWebhookConfiguration).Webhooks[i]
		webhookDefaults{&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector,
			&w.TimeoutSeconds, w.ClientConfig.Service, w.Rules}.apply()
	}
}

func defaultMutatingWebhooks(o runtime.Object) {
	for i := range o.(*admissionv1.MutatingWebhookConfiguration).Webhooks {
		w := &o.(*admissionv1.MutatingWebhookConfiguration).Webhooks[i]
		webhookDefaults{&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector,
			&w.TimeoutSeconds, w.ClientConfig.Service, w.Rules}.apply()
		if w.ReinvocationPolicy == nil {
			w.ReinvocationPolicy = ptr(admissionv1.NeverReinvocationPolicy)
		}
	}
}

func defaultMatchResources(m *admissionv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		m.MatchPolicy = ptr(admissionv1.Equivalent)
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for i := range m.ResourceRules {
		defaultRule(&m.ResourceRules[i].Rule)
	}
	for i := range m.ExcludeResourceRules {
		defaultRule(&m.ExcludeResourceRules[i].Rule)
	}
}

func defaultValidatingAdmissionPolicy(o runtime.Object) {
	s := &o.(*admissionv1.ValidatingAdmissionPolicy).Spec
	if s.FailurePolicy == nil {
		s.FailurePolicy = ptr(admissionv1.Fail)
	}
	defaultMatchResources(s.MatchConstraints)
}

func defaultMutatingAdmissionPolicy(o runtime.Object) {
	s := &o.(*admissionv1.MutatingAdmissionPolicy).Spec
	if s.FailurePolicy == nil {
		s.FailurePolicy = ptr(admissionv1.Fail)
	}
	defaultMatchResources(s.MatchConstraints)
}

func webhookColumns(count func(runtime.Object) int) []registry.Column {
	return []registry.Column{
		{Name: "Webhooks", Type: "integer", Description: "Webhooks indicates the number of webhooks registered in this configuration",
			Cell: func(o runtime.Object) any { return int64(count(o)) }},
		registry.AgeColumn,
	}
}

func paramKindCell(p *admissionv1.ParamKind) string {
	if p == nil {
		return "<unset>"
	}
	return p.APIVersion + "/" + p.Kind
}

const paramKindDescription = "ParamKind specifies the kind of resources used to parameterize this policy"

var validatingPolicyColumns = []registry.Column{
	{Name: "Validations", Type: "integer", Description: "Validations indicates the number of validation rules defined in this configuration",
		Cell: func(o runtime.Object) any {
			return int64(len(o.(*admissionv1.ValidatingAdmissionPolicy).Spec.Validations))
		}},
	{Name: "ParamKind", Type: "string", Description: paramKindDescription,
		Cell: func(o runtime.Object) any {
			return paramKindCell(o.(*admissionv1.ValidatingAdmissionPolicy).Spec.ParamKind)
		}},
	registry.AgeColumn,
}

var mutatingPolicyColumns = []registry.Column{
	{Name: "Mutations", Type: "integer", Description: "Mutation indicates the number of mutations rules defined in this configuration",
		Cell: func(o runtime.Object) any { return int64(len(o.(*admissionv1.MutatingAdmissionPolicy).Spec.Mutations)) }},
	{Name: "ParamKind", Type: "string", Description: paramKindDescription,
		Cell: func(o runtime.Object) any {
			return paramKindCell(o.(*admissionv1.MutatingAdmissionPolicy).Spec.ParamKind)
		}},
	registry.AgeColumn,
}

func bindingColumns(spec func(runtime.Object) (string, *admissionv1.ParamRef)) []registry.Column {
	return []registry.Column{
		{Name: "PolicyName", Type: "string", Description: "PolicyName indicates the policy definition which the policy binding binded to",
			Cell: func(o runtime.Object) any { name, _ := spec(o); return name }},
		{Name: "ParamRef", Type: "string", Description: "ParamRef indicates the param resource which sets the configuration param",
			Cell: func(o runtime.Object) any {
				_, pr := spec(o)
				switch {
				case pr == nil:
				case pr.Name != "" && pr.Namespace != "":
					return pr.Namespace + "/" + pr.Name
				case pr.Name != "":
					return "*/" + pr.Name
				case pr.Selector != nil:
					return pr.Selector.String()
				}
				return "<unset>"
			}},
		registry.AgeColumn,
	}
}
