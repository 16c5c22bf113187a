package apiserver

import (
	"context"
	"fmt"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	cbor "k8s.io/apimachinery/pkg/runtime/serializer/cbor/direct"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/regis-dev/regis/internal/registry"
)

// This file is server-side apply: upstream's applyPatcher. The field
// manager merges the applied configuration into the live object and
// answers conflicts with 409.

// decodeApplyPatch decodes an apply configuration, YAML (or JSON) or
// CBOR, into an unstructured object.
func decodeApplyPatch(pt types.PatchType, body []byte) (*unstructured.Unstructured, error) {
	patch := &unstructured.Unstructured{Object: map[string]any{}}
	var err error
	if pt == types.ApplyCBORPatchType {
		err = cbor.Unmarshal(body, &patch.Object)
	} else {
		err = yaml.Unmarshal(body, &patch.Object)
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
	}
	return patch, nil
}

// checkApplyStrict is upstream's check of the apply configuration's
// duplicate fields after the merge: an error with Strict, a warning with
// Warn. (Unknown fields fail the merge itself.)
func checkApplyStrict(ctx context.Context, pt types.PatchType, body []byte, directive string) error {
	if directive == metav1.FieldValidationIgnore {
		return nil
	}
	var err error
	if pt == types.ApplyCBORPatchType {
		err = cbor.Unmarshal(body, &map[string]any{})
	} else {
		err = yaml.UnmarshalStrict(body, &map[string]any{})
	}
	if err == nil {
		return nil
	}
	if directive == metav1.FieldValidationStrict {
		return apierrors.NewBadRequest(fmt.Sprintf("error strict decoding patch: %v", err))
	}
	for _, w := range yamlWarnings(err.Error()) {
		registry.AddWarning(ctx, w)
	}
	return nil
}

// The beginnings of the YAML decoder's strict errors.
const (
	yamlShortPrefix = "yaml: unmarshal errors:\n"
	yamlLongPrefix  = "error converting YAML to JSON: yaml: unmarshal errors:\n"
)

// yamlWarnings is upstream's parseYAMLWarnings: a warning per line of
// a YAML strict error, the error as it is otherwise.
func yamlWarnings(msg string) []string {
	rest, ok := strings.CutPrefix(msg, yamlShortPrefix)
	if !ok {
		if rest, ok = strings.CutPrefix(msg, yamlLongPrefix); !ok {
			return []string{msg}
		}
	}
	lines := strings.Split(rest, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines
}

// apply merges the configuration body into live as manager, as
// upstream's applyPatchToCurrentObject.
func apply(ctx context.Context, st *registry.Store, subresource string, pt types.PatchType, live runtime.Object, body []byte,
	opts *metav1.PatchOptions, directive string) (runtime.Object, error) {
	patch, err := decodeApplyPatch(pt, body)
	if err != nil {
		return nil, err
	}
	fm, err := fieldManager(st, subresource)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	obj, err := fm.Apply(live, patch, opts.FieldManager, opts.Force != nil && *opts.Force)
	if err != nil {
		if _, ok := err.(apierrors.APIStatus); ok {
			return nil, err
		}
		return nil, unknownStatus(err)
	}
	if err := checkApplyStrict(ctx, pt, body, directive); err != nil {
		return nil, err
	}
	return obj, nil
}

// applyObject applies to an object or its status; a missing object is
// created from an empty one (upstream's createNewObject).
func applyObject(ctx context.Context, st *registry.Store, info requestInfo, pt types.PatchType, existing runtime.Object, body []byte,
	opts *metav1.PatchOptions, directive string) (runtime.Object, error) {
	live := existing
	if live == nil {
		live = st.New()
	}
	live.GetObjectKind().SetGroupVersionKind(st.Resource().GroupVersionKind())
	obj, err := apply(ctx, st, info.subresource, pt, live, body, opts, directive)
	if err != nil {
		return nil, err
	}
	if uid := metaAccessor(obj).GetUID(); existing == nil && uid != "" {
		return nil, apierrors.NewConflict(st.Resource().GroupResource(), info.name,
			fmt.Errorf("uid mismatch: the provided object specified uid %s, and no existing object was found", uid))
	}
	return obj, nil
}

// applyScale applies a Scale configuration to the current Scale.
func applyScale(ctx context.Context, st *registry.Store, pt types.PatchType, cur *autoscalingv1.Scale, body []byte,
	opts *metav1.PatchOptions, directive string) (*autoscalingv1.Scale, error) {
	cur.GetObjectKind().SetGroupVersionKind(scaleGV.WithKind("Scale"))
	obj, err := apply(ctx, st, "scale", pt, cur, body, opts, directive)
	if err != nil {
		return nil, err
	}
	sc, ok := obj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected input object type to be Scale, but %T", obj))
	}
	return sc, nil
}
