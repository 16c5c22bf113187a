package admission

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/apiserver/pkg/cel/lazy"
	"k8s.io/apiserver/pkg/cel/library"
	"k8s.io/apiserver/pkg/cel/mutation"

	"github.com/regis-dev/regis/internal/registry"
)

// CEL as upstream's admission uses it: the Kubernetes base environment
// (its libraries and cost limits) at the default compatibility version,
// with the variables object, oldObject, request, params, namespaceObject
// and variables. They are declared dynamic, as upstream's runtime
// evaluation sees them (objects as unstructured JSON values); the
// authorizer variable is not declared (an expression naming it does not
// compile: a configuration error).

type celEnv struct {
	env *cel.Env
	// menv adds upstream's patch types (Object{...}, JSONPatch{...},
	// jsonpatch.escapeKey) for the mutations of mutating policies.
	menv *cel.Env
}

var variablesType = types.NewObjectType("kubernetes.variables")

func newCELEnv() (*celEnv, error) {
	set, err := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()).Extend(environment.VersionedOptions{
		IntroducedVersion: version.MajorMinor(1, 0),
		EnvOptions: []cel.EnvOption{
			cel.Variable("object", cel.DynType),
			cel.Variable("oldObject", cel.DynType),
			cel.Variable("params", cel.DynType),
			cel.Variable("request", cel.DynType),
			cel.Variable("namespaceObject", cel.DynType),
			cel.Variable("variables", cel.MapType(cel.StringType, cel.DynType)),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("admission: CEL environment: %w", err)
	}
	env, err := set.Env(environment.StoredExpressions)
	if err != nil {
		return nil, fmt.Errorf("admission: CEL environment: %w", err)
	}
	mset, err := set.Extend(environment.VersionedOptions{
		IntroducedVersion: version.MajorMinor(1, 0),
		EnvOptions: []cel.EnvOption{
			common.ResolverEnvOption(&mutation.DynamicTypeResolver{}),
			environment.UnversionedLib(library.JSONPatch),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("admission: CEL environment: %w", err)
	}
	menv, err := mset.Env(environment.StoredExpressions)
	if err != nil {
		return nil, fmt.Errorf("admission: CEL environment: %w", err)
	}
	return &celEnv{env: env, menv: menv}, nil
}

// compileMutation compiles a mutation's expression.
func (e *celEnv) compileMutation(expr string) (cel.Program, error) {
	ast, iss := e.menv.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("compilation failed: %v", iss.Err())
	}
	return e.menv.Program(ast, cel.CostLimit(celconfig.PerCallLimit), cel.InterruptCheckFrequency(100))
}

// compile compiles one expression; wantBool refuses an expression typed
// other than bool (or dyn).
func (e *celEnv) compile(expr string, wantBool bool) (cel.Program, error) {
	ast, iss := e.env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("compilation failed: %v", iss.Err())
	}
	if wantBool && ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("must evaluate to bool")
	}
	return e.env.Program(ast, cel.CostLimit(celconfig.PerCallLimit), cel.InterruptCheckFrequency(100))
}

// activation holds one evaluation's variables.
type activation struct {
	object, oldObject, params, request, namespace any
	variables                                     *lazy.MapValue
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "object":
		return a.object, true
	case "oldObject":
		return a.oldObject, true
	case "params":
		return a.params, true
	case "request":
		return a.request, true
	case "namespaceObject":
		return a.namespace, true
	case "variables":
		if a.variables == nil {
			return nil, false
		}
		return a.variables, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// namedProgram is a compiled variable or match condition.
type namedProgram struct {
	name string
	prog cel.Program
}

// newActivation builds the variables of a request: objects as
// unstructured values, the request as AdmissionRequest's JSON, the
// variables evaluated lazily (once, when first read).
func newActivation(a *registry.Attributes, res schema.GroupVersionResource, kind schema.GroupVersionKind, param runtime.Object, ns *corev1.Namespace, vars []namedProgram) (*activation, error) {
	act := &activation{request: requestValue(a, res, kind)}
	var err error
	if act.object, err = toValue(a.Object, a.Kind); err != nil {
		return nil, err
	}
	if act.oldObject, err = toValue(a.OldObject, a.Kind); err != nil {
		return nil, err
	}
	if param != nil {
		if act.params, err = toValue(param, param.GetObjectKind().GroupVersionKind()); err != nil {
			return nil, err
		}
	}
	if ns != nil {
		act.namespace = namespaceValue(ns)
	}
	if len(vars) > 0 {
		act.variables = lazy.NewMapValue(variablesType)
		for _, v := range vars {
			v := v
			act.variables.Append(v.name, func(*lazy.MapValue) ref.Val {
				out, _, err := v.prog.Eval(act)
				if err != nil {
					return types.NewErr("composited variable %q fails to compile: %v", v.name, err)
				}
				return out
			})
		}
	}
	return act, nil
}

// toValue converts an object to unstructured JSON with its apiVersion and
// kind; nil stays nil (null).
func toValue(obj runtime.Object, gvk schema.GroupVersionKind) (any, error) {
	if obj == nil {
		return nil, nil
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	if _, ok := u["kind"]; !ok && !gvk.Empty() {
		u["apiVersion"], u["kind"] = gvk.GroupVersion().String(), gvk.Kind
	}
	return u, nil
}

// requestValue is upstream's CreateAdmissionRequest as JSON.
func requestValue(a *registry.Attributes, res schema.GroupVersionResource, kind schema.GroupVersionKind) map[string]any {
	gvk := func(k schema.GroupVersionKind) map[string]any {
		return map[string]any{"group": k.Group, "version": k.Version, "kind": k.Kind}
	}
	gvr := func(r schema.GroupVersionResource) map[string]any {
		return map[string]any{"group": r.Group, "version": r.Version, "resource": r.Resource}
	}
	user := map[string]any{"username": "", "uid": "", "groups": []any{}, "extra": map[string]any{}}
	if u := a.User; u != nil {
		groups := make([]any, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = g
		}
		extra := map[string]any{}
		for k, v := range u.Extra {
			vals := make([]any, len(v))
			for i, x := range v {
				vals[i] = x
			}
			extra[k] = vals
		}
		user = map[string]any{"username": u.Name, "uid": u.UID, "groups": groups, "extra": extra}
	}
	return map[string]any{
		"uid": "", "kind": gvk(kind), "resource": gvr(res), "subResource": a.Subresource,
		"requestKind": gvk(a.Kind), "requestResource": gvr(a.Resource), "requestSubResource": a.Subresource,
		"name": a.Name, "namespace": a.Namespace, "operation": string(a.Operation),
		"userInfo": user, "dryRun": a.DryRun,
	}
}

// namespaceValue is upstream's CreateNamespaceObject: the namespace's
// identity, labels, annotations, spec and status.
func namespaceValue(ns *corev1.Namespace) map[string]any {
	cp := &corev1.Namespace{
		TypeMeta:   ns.TypeMeta,
		ObjectMeta: ns.ObjectMeta,
		Spec:       ns.Spec,
		Status:     ns.Status,
	}
	cp.ManagedFields, cp.OwnerReferences, cp.Finalizers = nil, nil, nil
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cp)
	if err != nil {
		return nil
	}
	return u
}

// evalBool evaluates a boolean expression.
func evalBool(ctx context.Context, p cel.Program, act *activation) (bool, error) {
	out, _, err := p.ContextEval(ctx, act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("expected bool, got %v", out.Type())
	}
	return bool(b), nil
}

// evalString evaluates a message expression; "" when it fails.
func evalString(ctx context.Context, p cel.Program, act *activation) string {
	out, _, err := p.ContextEval(ctx, act)
	if err != nil {
		return ""
	}
	s, ok := out.Value().(string)
	if !ok {
		return ""
	}
	return strings.TrimSpace(s)
}

// matchConditions evaluates match conditions as upstream's matcher: a
// false one excludes the request; errors count only if none is false.
func matchConditions(ctx context.Context, conds []namedProgram, act *activation) (bool, error) {
	var firstErr error
	for _, c := range conds {
		ok, err := evalBool(ctx, c.prog, act)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("failed to evaluate match condition %q: %v", c.name, err)
			}
			continue
		}
		if !ok {
			return false, nil
		}
	}
	if firstErr != nil {
		return false, firstErr
	}
	return true, nil
}
