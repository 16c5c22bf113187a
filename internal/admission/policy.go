package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/google/cel-go/cel"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// ValidatingAdmissionPolicy as upstream's plugin
// (admission/plugin/policy/validating): the policy's matchConstraints,
// each binding's matchResources and params, matchConditions, variables
// and validations, the binding's validationActions.

// maxMessageBytes is upstream's MaxEvaluatedMessageExpressionSizeBytes.
const maxMessageBytes = 5 * 1024

type validation struct {
	spec    admissionv1.Validation
	prog    cel.Program
	message cel.Program // nil without messageExpression
}

type policy struct {
	p         *admissionv1.ValidatingAdmissionPolicy
	bindings  []*admissionv1.ValidatingAdmissionPolicyBinding
	configErr error
	conds     []namedProgram
	variables []namedProgram
	checks    []validation
}

func (c *Chain) compilePolicy(p *admissionv1.ValidatingAdmissionPolicy, bs []*admissionv1.ValidatingAdmissionPolicyBinding) *policy {
	out := &policy{p: p, bindings: bs}
	var errs []string
	for _, m := range p.Spec.MatchConditions {
		prog, err := c.env.compile(m.Expression, true)
		if err != nil {
			errs = append(errs, fmt.Sprintf("matchConditions[%s]: %v", m.Name, err))
			continue
		}
		out.conds = append(out.conds, namedProgram{name: m.Name, prog: prog})
	}
	for _, v := range p.Spec.Variables {
		prog, err := c.env.compile(v.Expression, false)
		if err != nil {
			errs = append(errs, fmt.Sprintf("variables[%s]: %v", v.Name, err))
			continue
		}
		out.variables = append(out.variables, namedProgram{name: v.Name, prog: prog})
	}
	for i, v := range p.Spec.Validations {
		prog, err := c.env.compile(v.Expression, true)
		if err != nil {
			errs = append(errs, fmt.Sprintf("validations[%d]: %v", i, err))
			continue
		}
		val := validation{spec: v, prog: prog}
		if v.MessageExpression != "" {
			if val.message, err = c.env.compile(v.MessageExpression, false); err != nil {
				errs = append(errs, fmt.Sprintf("validations[%d].messageExpression: %v", i, err))
			}
		}
		out.checks = append(out.checks, val)
	}
	if len(errs) > 0 {
		out.configErr = errors.New(strings.Join(errs, "; "))
	}
	return out
}

// decision is one failed validation.
type decision struct {
	policy, binding string
	message         string
	reason          metav1.StatusReason
}

func (c *Chain) validatePolicies(ctx context.Context, s *snapshot, a *registry.Attributes) error {
	var denied []decision
	configError := func(p *policy, binding string, err error) {
		fp := admissionv1.Fail
		if p.p.Spec.FailurePolicy != nil {
			fp = *p.p.Spec.FailurePolicy
		}
		if fp == admissionv1.Ignore {
			return
		}
		msg := fmt.Sprintf("failed to configure policy: %v", err)
		if binding != "" {
			msg = fmt.Sprintf("failed to configure binding: %v", err)
		}
		denied = append(denied, decision{policy: p.p.Name, binding: binding, message: msg})
	}
	for _, p := range s.policies {
		ok, err := c.resourcesMatch(ctx, p.p.Spec.MatchConstraints, a)
		if err != nil {
			configError(p, "", err)
			continue
		}
		if !ok {
			continue
		}
		if p.configErr != nil {
			configError(p, "", p.configErr)
			continue
		}
		for _, b := range p.bindings {
			if b.Spec.MatchResources != nil {
				ok, err := c.resourcesMatch(ctx, b.Spec.MatchResources, a)
				if err != nil {
					configError(p, b.Name, err)
					continue
				}
				if !ok {
					continue
				}
			}
			params, err := c.collectParams(ctx, p.p.Spec.ParamKind, b.Spec.ParamRef, a.Namespace)
			if err != nil {
				configError(p, b.Name, err)
				continue
			}
			var ns *corev1.Namespace
			if a.Namespace != "" && a.Resource != namespacesGVR {
				if ns, err = c.namespace(ctx, a.Namespace); err != nil {
					return err
				}
			}
			for _, param := range params {
				for _, d := range c.evaluate(ctx, p, param, ns, a) {
					d.policy, d.binding = p.p.Name, b.Name
					for _, action := range b.Spec.ValidationActions {
						switch action {
						case admissionv1.Deny:
							denied = append(denied, d)
						case admissionv1.Warn:
							registry.AddWarning(ctx, fmt.Sprintf("Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': %s", p.p.Name, b.Name, d.message))
						case admissionv1.Audit:
							// The audit annotation: regis has no audit log here.
						}
					}
				}
			}
		}
	}
	if len(denied) == 0 {
		return nil
	}
	d := denied[0]
	msg := fmt.Sprintf("ValidatingAdmissionPolicy '%s' denied request: %s", d.policy, d.message)
	if d.binding != "" {
		msg = fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", d.policy, d.binding, d.message)
	}
	err := forbidden(a, errors.New(msg))
	reason := d.reason
	if reason == "" {
		reason = metav1.StatusReasonInvalid
	}
	err.ErrStatus.Reason = reason
	err.ErrStatus.Code = reasonToCode(reason)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Message: msg})
	return err
}

func reasonToCode(r metav1.StatusReason) int32 {
	switch r {
	case metav1.StatusReasonForbidden:
		return http.StatusForbidden
	case metav1.StatusReasonUnauthorized:
		return http.StatusUnauthorized
	case metav1.StatusReasonRequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusUnprocessableEntity
}

// evaluate runs a policy's conditions and validations for one param and
// returns the failures (upstream's validator.Validate).
func (c *Chain) evaluate(ctx context.Context, p *policy, param runtime.Object, ns *corev1.Namespace, a *registry.Attributes) []decision {
	failOpen := p.p.Spec.FailurePolicy != nil && *p.p.Spec.FailurePolicy == admissionv1.Ignore
	fail := func(err error) []decision {
		if failOpen {
			return nil
		}
		return []decision{{message: err.Error()}}
	}
	act, err := newActivation(a, a.Resource, a.Kind, param, ns, p.variables)
	if err != nil {
		return fail(err)
	}
	if len(p.conds) > 0 {
		ok, err := matchConditions(ctx, p.conds, act)
		if err != nil {
			return fail(err)
		}
		if !ok {
			return nil
		}
	}
	var out []decision
	for _, v := range p.checks {
		ok, err := evalBool(ctx, v.prog, act)
		if err != nil {
			if !failOpen {
				out = append(out, decision{message: err.Error()})
			}
			continue
		}
		if ok {
			continue
		}
		d := decision{reason: metav1.StatusReasonInvalid}
		if v.spec.Reason != nil {
			d.reason = *v.spec.Reason
		}
		if v.message != nil {
			if m := evalString(ctx, v.message, act); len(m) <= maxMessageBytes && !strings.Contains(m, "\n") {
				d.message = m
			}
		}
		if d.message == "" {
			d.message = strings.TrimSpace(v.spec.Message)
		}
		if d.message == "" {
			d.message = fmt.Sprintf("failed expression: %v", strings.TrimSpace(v.spec.Expression))
		}
		out = append(out, d)
	}
	return out
}

// resourcesMatch is upstream's matching.Matcher.Matches (Exact matching:
// regis serves one version of each built-in resource).
func (c *Chain) resourcesMatch(ctx context.Context, m *admissionv1.MatchResources, a *registry.Attributes) (bool, error) {
	if m == nil {
		return false, nil
	}
	nsSel, err := selector(m.NamespaceSelector)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	nsOK, nsErr := c.namespaceMatches(ctx, nsSel, a)
	if !nsOK && nsErr == nil {
		return false, nil
	}
	objSel, err := selector(m.ObjectSelector)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	if !objectMatches(objSel, a) {
		return false, nil
	}
	if namedRulesMatch(m.ExcludeResourceRules, a) {
		return false, nil
	}
	if len(m.ResourceRules) > 0 && !namedRulesMatch(m.ResourceRules, a) {
		return false, nil
	}
	return nsErr == nil, nsErr
}

func namedRulesMatch(rules []admissionv1.NamedRuleWithOperations, a *registry.Attributes) bool {
	for _, r := range rules {
		if !ruleMatches(r.RuleWithOperations, a) {
			continue
		}
		if len(r.ResourceNames) == 0 {
			return true
		}
		for _, n := range r.ResourceNames {
			if n == a.Name {
				return true
			}
		}
	}
	return false
}

// collectParams is upstream's generic.CollectParams over the registry.
func (c *Chain) collectParams(ctx context.Context, kind *admissionv1.ParamKind, ref *admissionv1.ParamRef, namespace string) ([]runtime.Object, error) {
	if kind == nil || ref == nil {
		return []runtime.Object{nil}, nil
	}
	gv, err := schema.ParseGroupVersion(kind.APIVersion)
	if err != nil {
		return nil, err
	}
	var st *registry.Store
	for _, s := range c.reg.Stores() {
		if s.Resource().GroupVersionKind() == gv.WithKind(kind.Kind) {
			st = s
			break
		}
	}
	if st == nil {
		return nil, fmt.Errorf("paramKind kind `%v` not known", kind.String())
	}
	ns := ""
	if st.Resource().Namespaced {
		ns = namespace
		if ref.Namespace != "" {
			ns = ref.Namespace
		} else if ns == "" {
			return nil, errors.New("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources")
		}
	} else if ref.Namespace != "" {
		return nil, errors.New("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
	}
	var params []runtime.Object
	switch {
	case ref.Name != "":
		if ref.Selector != nil {
			return nil, errors.New("paramRef.name and paramRef.selector are mutually exclusive")
		}
		obj, err := st.Get(ctx, ns, ref.Name, &metav1.GetOptions{ResourceVersion: "0"})
		if apierrors.IsNotFound(err) {
			obj, err = st.Get(ctx, ns, ref.Name, &metav1.GetOptions{})
		}
		switch {
		case err == nil:
			params = []runtime.Object{withKind(cacheable.Unwrap(obj), gv.WithKind(kind.Kind))}
		case apierrors.IsNotFound(err):
		default:
			return nil, err
		}
	case ref.Selector != nil:
		sel, err := metav1.LabelSelectorAsSelector(ref.Selector)
		if err != nil {
			return nil, err
		}
		list, err := st.List(ctx, ns, &metainternalversion.ListOptions{LabelSelector: sel, ResourceVersion: "0"})
		if err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			params = append(params, withKind(cacheable.Unwrap(it), gv.WithKind(kind.Kind)))
		}
	default:
		return nil, errors.New("one of name or selector must be provided")
	}
	if len(params) == 0 && ref.ParameterNotFoundAction != nil && *ref.ParameterNotFoundAction == admissionv1.DenyAction {
		return nil, errors.New("no params found for policy binding with `Deny` parameterNotFoundAction")
	}
	return params, nil
}

// withKind sets a param's apiVersion and kind when it has none (a copy).
func withKind(obj runtime.Object, gvk schema.GroupVersionKind) runtime.Object {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return obj
	}
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj
}
