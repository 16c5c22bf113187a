package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/traits"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/cel/mutation"
	"k8s.io/apiserver/pkg/cel/mutation/dynamic"

	"github.com/regis-dev/regis/internal/registry"
)

// MutatingAdmissionPolicy as upstream's plugin
// (admission/plugin/policy/mutating): matching, params, matchConditions
// and variables as the validating policies; each mutation is a CEL
// expression giving a JSONPatch or an apply configuration (Object{...}),
// applied in order; reinvocationPolicy IfNeeded. An apply configuration
// is merged into the object as maps are by server-side apply; lists are
// replaced, but for lists of objects keyed by "name" (containers, ports,
// volumes), merged by name (upstream merges by each list's schema keys).

type mutationProg struct {
	jsonPatch bool
	prog      cel.Program
}

type mpolicy struct {
	p         *admissionv1.MutatingAdmissionPolicy
	bindings  []*admissionv1.MutatingAdmissionPolicyBinding
	configErr error
	conds     []namedProgram
	variables []namedProgram
	mutations []mutationProg
}

func (c *Chain) compileMutatingPolicy(p *admissionv1.MutatingAdmissionPolicy, bs []*admissionv1.MutatingAdmissionPolicyBinding) *mpolicy {
	out := &mpolicy{p: p, bindings: bs}
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
	for i, m := range p.Spec.Mutations {
		var expr string
		switch {
		case m.PatchType == admissionv1.PatchTypeJSONPatch && m.JSONPatch != nil:
			expr = m.JSONPatch.Expression
		case m.PatchType == admissionv1.PatchTypeApplyConfiguration && m.ApplyConfiguration != nil:
			expr = m.ApplyConfiguration.Expression
		default:
			continue
		}
		prog, err := c.env.compileMutation(expr)
		if err != nil {
			errs = append(errs, fmt.Sprintf("mutations[%d]: %v", i, err))
			continue
		}
		out.mutations = append(out.mutations, mutationProg{jsonPatch: m.PatchType == admissionv1.PatchTypeJSONPatch, prog: prog})
	}
	if len(errs) > 0 {
		out.configErr = errors.New(strings.Join(errs, "; "))
	}
	return out
}

// policyError is upstream's generic.PolicyError.
type policyError struct {
	policy, binding string
	failOpen        bool
	err             error
	reason          metav1.StatusReason
}

func (e policyError) Error() string {
	if e.binding != "" {
		return fmt.Sprintf("policy '%s' with binding '%s' denied request: %s", e.policy, e.binding, e.err.Error())
	}
	return fmt.Sprintf("policy %q denied request: %s", e.policy, e.err.Error())
}

type invocation struct {
	p     *mpolicy
	b     *admissionv1.MutatingAdmissionPolicyBinding
	param runtime.Object
	key   string
}

// mutatePolicies applies the mutating policies to a.Object; only, when
// set, limits it to the invocations of those keys (the reinvocation). It
// returns the keys of the IfNeeded invocations it ran.
func (c *Chain) mutatePolicies(ctx context.Context, s *snapshot, a *registry.Attributes, only map[string]bool) ([]string, error) {
	var perrs []policyError
	failOpen := func(p *mpolicy) bool {
		return p.p.Spec.FailurePolicy != nil && *p.p.Spec.FailurePolicy == admissionv1.Ignore
	}
	var invs []invocation
	for _, p := range s.mpolicies {
		ok, err := c.resourcesMatch(ctx, p.p.Spec.MatchConstraints, a)
		if err == nil && ok && p.configErr != nil {
			err = p.configErr
		}
		if err != nil {
			perrs = append(perrs, policyError{policy: p.p.Name, failOpen: failOpen(p), err: fmt.Errorf("failed to configure policy: %w", err)})
			continue
		}
		if !ok {
			continue
		}
		for _, b := range p.bindings {
			if b.Spec.MatchResources != nil {
				ok, err := c.resourcesMatch(ctx, b.Spec.MatchResources, a)
				if err != nil {
					perrs = append(perrs, policyError{policy: p.p.Name, binding: b.Name, failOpen: failOpen(p), err: fmt.Errorf("failed to configure binding: %w", err)})
					continue
				}
				if !ok {
					continue
				}
			}
			params, err := c.collectParams(ctx, p.p.Spec.ParamKind, b.Spec.ParamRef, a.Namespace)
			if err != nil {
				perrs = append(perrs, policyError{policy: p.p.Name, binding: b.Name, failOpen: failOpen(p), err: fmt.Errorf("failed to configure binding: %w", err)})
				continue
			}
			for i, param := range params {
				invs = append(invs, invocation{p: p, b: b, param: param, key: p.p.Name + "/" + b.Name + "/" + strconv.Itoa(i)})
			}
		}
	}
	var ns *corev1.Namespace
	if len(invs) > 0 && a.Namespace != "" && a.Resource != namespacesGVR {
		var err error
		if ns, err = c.namespace(ctx, a.Namespace); err != nil {
			return nil, err
		}
	}
	var ran []string
	for _, inv := range invs {
		if only != nil && !only[inv.key] {
			continue
		}
		fail := func(err error) {
			perrs = append(perrs, policyError{policy: inv.p.p.Name, binding: inv.b.Name, failOpen: failOpen(inv.p), err: err, reason: metav1.StatusReasonInvalid})
		}
		if len(inv.p.conds) > 0 {
			act, err := newActivation(a, a.Resource, a.Kind, inv.param, ns, inv.p.variables)
			if err != nil {
				return nil, apierrors.NewInternalError(err)
			}
			ok, err := matchConditions(ctx, inv.p.conds, act)
			if err != nil {
				fail(err)
				continue
			}
			if !ok {
				continue
			}
		}
		for _, m := range inv.p.mutations {
			if a.Object == nil {
				continue
			}
			if err := c.applyMutation(ctx, m, a, inv.param, ns, inv.p.variables); err != nil {
				var st *apierrors.StatusError
				if errors.As(err, &st) {
					return nil, st
				}
				fail(err)
			}
		}
		if inv.p.p.Spec.ReinvocationPolicy == admissionv1.IfNeededReinvocationPolicy {
			ran = append(ran, inv.key)
		}
	}
	for _, e := range perrs {
		if e.failOpen {
			continue
		}
		err := forbidden(a, errors.New("admission request denied by policy"))
		err.ErrStatus.Message = e.Error()
		if e.reason != "" {
			err.ErrStatus.Reason = e.reason
		}
		for _, e2 := range perrs {
			if !e2.failOpen {
				err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Message: e2.Error()})
			}
		}
		return nil, err
	}
	return ran, nil
}

// applyMutation evaluates one mutation and applies it to a.Object.
func (c *Chain) applyMutation(ctx context.Context, m mutationProg, a *registry.Attributes, param runtime.Object, ns *corev1.Namespace, vars []namedProgram) error {
	act, err := newActivation(a, a.Resource, a.Kind, param, ns, vars)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	out, _, err := m.prog.ContextEval(ctx, act)
	if err != nil {
		return err
	}
	in, err := encodeObject(a.Object, a.Kind)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	var next []byte
	if m.jsonPatch {
		patch, err := toJSONPatch(out)
		if err != nil {
			return err
		}
		if next, err = patch.Apply(in); err != nil {
			if errors.Is(err, jsonpatch.ErrTestFailed) {
				return nil
			}
			return fmt.Errorf("JSON Patch: %w", err)
		}
	} else {
		obj, ok := out.(*dynamic.ObjectVal)
		if !ok {
			return fmt.Errorf("unsupported return type from ApplyConfiguration expression: %v", out.Type())
		}
		if err := obj.CheckTypeNamesMatchFieldPathNames(); err != nil {
			return fmt.Errorf("type mismatch: %w", err)
		}
		patch, ok := obj.Value().(map[string]any)
		if !ok {
			return fmt.Errorf("invalid return type: %T", out)
		}
		cur := map[string]any{}
		if err := json.Unmarshal(in, &cur); err != nil {
			return apierrors.NewInternalError(err)
		}
		delete(patch, "apiVersion")
		delete(patch, "kind")
		merged := merge(cur, patch)
		if next, err = json.Marshal(merged); err != nil {
			return fmt.Errorf("error applying patch: %w", err)
		}
	}
	if _, err := setObject(a, next); err != nil {
		return apierrors.NewInternalError(err)
	}
	return nil
}

// toJSONPatch converts a JSONPatch expression's list into a patch.
func toJSONPatch(v any) (jsonpatch.Patch, error) {
	list, ok := v.(traits.Lister)
	if !ok {
		return nil, errors.New("type mismatch: JSONPatchType.expression should evaluate to array")
	}
	var out jsonpatch.Patch
	for it := list.Iterator(); it.HasNext() == types.True; {
		e := it.Next()
		native, err := e.ConvertToNative(reflect.TypeOf(&mutation.JSONPatchVal{}))
		if err != nil {
			return nil, fmt.Errorf("type mismatch: JSONPatchType.expression should evaluate to array of JSONPatch: %w", err)
		}
		op := native.(*mutation.JSONPatchVal)
		raw := func(s string) *json.RawMessage { r := json.RawMessage(strconv.Quote(s)); return &r }
		o := jsonpatch.Operation{"op": raw(op.Op), "path": raw(op.Path)}
		if op.From != "" {
			o["from"] = raw(op.From)
		}
		if op.Val != nil {
			if obj, ok := op.Val.(*dynamic.ObjectVal); ok {
				if err := obj.CheckTypeNamesMatchFieldPathNames(); err != nil {
					return nil, fmt.Errorf("type mismatch: %w", err)
				}
			}
			pv, err := op.Val.ConvertToNative(reflect.TypeOf(&structpb.Value{}))
			if err != nil {
				return nil, fmt.Errorf("JSONPath valueExpression evaluated to a type that could not marshal to JSON: %w", err)
			}
			b, err := protojson.Marshal(pv.(*structpb.Value))
			if err != nil {
				return nil, fmt.Errorf("JSONPath valueExpression evaluated to a type that could not marshal to JSON: %w", err)
			}
			r := json.RawMessage(b)
			o["value"] = &r
		}
		out = append(out, o)
	}
	return out, nil
}

// merge merges patch into cur: maps recursively, lists of objects with a
// "name" by name, anything else replaced.
func merge(cur, patch map[string]any) map[string]any {
	for k, pv := range patch {
		switch p := pv.(type) {
		case map[string]any:
			if c, ok := cur[k].(map[string]any); ok {
				cur[k] = merge(c, p)
				continue
			}
		case []any:
			if c, ok := cur[k].([]any); ok && named(c) && named(p) {
				cur[k] = mergeNamed(c, p)
				continue
			}
		}
		cur[k] = pv
	}
	return cur
}

func named(l []any) bool {
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["name"].(string); !ok {
			return false
		}
	}
	return true
}

func mergeNamed(cur, patch []any) []any {
	for _, pe := range patch {
		pm := pe.(map[string]any)
		found := false
		for i, ce := range cur {
			if cm := ce.(map[string]any); cm["name"] == pm["name"] {
				cur[i] = merge(cm, pm)
				found = true
				break
			}
		}
		if !found {
			cur = append(cur, pm)
		}
	}
	return cur
}
