package admission

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/apiserver/pkg/cel/library"
	"k8s.io/apiserver/pkg/cel/openapi"
)

// Type checking of ValidatingAdmissionPolicies, as upstream's
// validatingadmissionpolicy-status controller does it: each validation's
// expression and messageExpression compiled against the schema of each
// kind the policy matches (object and oldObject typed by it, params by
// the paramKind's), the compile errors written to
// status.typeChecking.expressionWarnings. request and namespaceObject are
// typed by upstream's hand-made declarations (typecheck_decls.go).

// maxTypesToCheck bounds the kinds a policy is checked against, as
// upstream's.
const maxTypesToCheck = 10

// TypeChecker checks policies' expressions.
type TypeChecker struct {
	// Resolver gives a kind's OpenAPI schema (built-in or custom).
	Resolver SchemaResolver
	// KindFor gives the kind of a resource, false when it is not served.
	KindFor func(schema.GroupVersionResource) (schema.GroupVersionKind, bool)
}

// Check returns the warnings of policy's expressions (nil: none).
func (c *TypeChecker) Check(policy *admissionregistrationv1.ValidatingAdmissionPolicy) []admissionregistrationv1.ExpressionWarning {
	gvks := c.typesToCheck(policy)
	types := make([]*apiservercel.DeclType, len(gvks))
	for i, gvk := range gvks {
		types[i] = c.declType(gvk)
	}
	var params *apiservercel.DeclType
	hasParams := policy.Spec.ParamKind != nil
	if hasParams {
		if gv, err := schema.ParseGroupVersion(policy.Spec.ParamKind.APIVersion); err == nil {
			params = c.declType(gv.WithKind(policy.Spec.ParamKind.Kind))
		}
	}
	check := func(expr string) string {
		var msgs []string
		for i, gvk := range gvks {
			env, err := typeCheckEnv(types[i], params, hasParams)
			if err != nil {
				msgs = append(msgs, fmt.Sprintf("%v: type checking error: %v\n", gvk, err))
				continue
			}
			if _, iss := env.Compile(expr); iss.Err() != nil {
				msgs = append(msgs, fmt.Sprintf("%v: compilation failed: %s\n", gvk, iss.String()))
			}
		}
		return strings.Join(msgs, "\n")
	}
	var warnings []admissionregistrationv1.ExpressionWarning
	path := field.NewPath("spec", "validations")
	for i, v := range policy.Spec.Validations {
		if w := check(v.Expression); w != "" {
			warnings = append(warnings, admissionregistrationv1.ExpressionWarning{FieldRef: path.Index(i).Child("expression").String(), Warning: w})
		}
		if v.MessageExpression == "" {
			continue
		}
		if w := check(v.MessageExpression); w != "" {
			warnings = append(warnings, admissionregistrationv1.ExpressionWarning{FieldRef: path.Index(i).Child("messageExpression").String(), Warning: w})
		}
	}
	return warnings
}

// declType is the CEL type of a kind's schema, nil when it has none.
func (c *TypeChecker) declType(gvk schema.GroupVersionKind) *apiservercel.DeclType {
	if gvk.Empty() || c.Resolver == nil {
		return nil
	}
	s, err := c.Resolver.ResolveSchema(gvk)
	if err != nil {
		return nil
	}
	return common.SchemaDeclType(&openapi.Schema{Schema: s}, true).MaybeAssignTypeName(fmt.Sprintf("%s%d", gvk.Kind, time.Now().Nanosecond()))
}

// typesToCheck are the kinds of the policy's resource rules without
// wildcards (subresources skipped), sorted, at most maxTypesToCheck.
func (c *TypeChecker) typesToCheck(p *admissionregistrationv1.ValidatingAdmissionPolicy) []schema.GroupVersionKind {
	if p.Spec.MatchConstraints == nil || c.KindFor == nil {
		return nil
	}
	seen := map[schema.GroupVersionKind]bool{}
	var out []schema.GroupVersionKind
	for _, rule := range p.Spec.MatchConstraints.ResourceRules {
		if slices.ContainsFunc(rule.APIGroups, wild) || slices.ContainsFunc(rule.APIVersions, wild) {
			continue
		}
		var resources []string
		for _, r := range rule.Resources {
			if !strings.ContainsAny(r, "*/") {
				resources = append(resources, r)
			}
		}
		groups, versions := slices.Sorted(slices.Values(rule.APIGroups)), slices.Sorted(slices.Values(rule.APIVersions))
		slices.Sort(resources)
		for _, g := range groups {
			for _, v := range versions {
				for _, r := range resources {
					gvk, ok := c.KindFor(schema.GroupVersionResource{Group: g, Version: v, Resource: r})
					if !ok || seen[gvk] {
						continue
					}
					seen[gvk] = true
					if out = append(out, gvk); len(out) == maxTypesToCheck {
						return sortGVKs(out)
					}
				}
			}
		}
	}
	return sortGVKs(out)
}

func wild(s string) bool { return strings.Contains(s, "*") }

func sortGVKs(l []schema.GroupVersionKind) []schema.GroupVersionKind {
	slices.SortFunc(l, func(a, b schema.GroupVersionKind) int {
		return strings.Compare(a.Group+"\x00"+a.Version+"\x00"+a.Kind, b.Group+"\x00"+b.Version+"\x00"+b.Kind)
	})
	return l
}

// typeCheckEnv is the environment of a policy's expressions with object
// and oldObject typed by object, params by params (dynamic when nil).
func typeCheckEnv(object, params *apiservercel.DeclType, hasParams bool) (*cel.Env, error) {
	typed := func(t *apiservercel.DeclType) *cel.Type {
		if t == nil {
			return cel.DynType
		}
		return t.CelType()
	}
	request, namespace := requestDeclType(), namespaceDeclType()
	decls := []*apiservercel.DeclType{namespace, request}
	for _, t := range []*apiservercel.DeclType{object, params} {
		if t != nil {
			decls = append(decls, t)
		}
	}
	opts := []cel.EnvOption{
		cel.Variable("object", typed(object)), cel.Variable("oldObject", typed(object)),
		cel.Variable("request", request.CelType()), cel.Variable("namespaceObject", namespace.CelType()),
		cel.Variable("variables", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("authorizer", library.AuthorizerType),
	}
	if hasParams {
		opts = append(opts, cel.Variable("params", typed(params)))
	}
	set, err := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()).Extend(environment.VersionedOptions{
		IntroducedVersion: version.MajorMinor(1, 0), EnvOptions: opts, DeclTypes: decls,
	})
	if err != nil {
		return nil, err
	}
	return set.Env(environment.StoredExpressions)
}
