package openapi

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// This file is upstream's k8s.io/apiserver/pkg/endpoints/openapi: the
// definition namer, which tags each definition with the kinds its type is
// registered as, and the operation ids.

const extensionGVK = "x-kubernetes-group-version-kind"

// namer gives a definition its x-kubernetes-group-version-kind: the
// group-version-kinds its type is registered as in the schemes, sorted by
// group, version and kind.
type namer struct {
	gvks map[string][]schema.GroupVersionKind
}

// newNamer indexes the known types of the schemes by model name, as
// upstream's NewDefinitionNamer.
func newNamer(schemes ...*runtime.Scheme) *namer {
	n := &namer{gvks: map[string][]schema.GroupVersionKind{}}
	for _, s := range schemes {
		for gvk := range s.AllKnownTypes() {
			name, err := s.ToOpenAPIDefinitionName(gvk)
			if err != nil {
				continue
			}
			n.add(name, gvk)
		}
	}
	for _, list := range n.gvks {
		slices.SortFunc(list, compareGVK)
	}
	return n
}

func (n *namer) add(name string, gvk schema.GroupVersionKind) {
	if !slices.Contains(n.gvks[name], gvk) {
		n.gvks[name] = append(n.gvks[name], gvk)
	}
}

func compareGVK(a, b schema.GroupVersionKind) int {
	if c := strings.Compare(a.Group, b.Group); c != 0 {
		return c
	}
	if c := strings.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	return strings.Compare(a.Kind, b.Kind)
}

// definitionName is the builders' GetDefinitionName: the name unchanged
// (the generated definitions are keyed by model name) and the kinds.
func (n *namer) definitionName(name string) (string, spec.Extensions) {
	list, ok := n.gvks[name]
	if !ok {
		return name, nil
	}
	j := make([]any, 0, len(list))
	for _, gvk := range list {
		j = append(j, map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind})
	}
	return name, spec.Extensions{extensionGVK: j}
}

var verbs = util.NewTrie([]string{"get", "log", "read", "replace", "patch", "delete", "deletecollection", "watch", "connect", "proxy", "list", "create", "patch"})

// operationIDAndTags is upstream's GetOperationIDAndTags: the route's
// operation ("readNamespacedPod") with the group and version put after
// its verb ("readCoreV1NamespacedPod"), and the tag "core_v1".
func operationIDAndTags(r common.Route) (string, []string, error) {
	op := r.OperationName()
	prefix, ok := verbs.GetPrefix(op)
	if !ok {
		return op, nil, fmt.Errorf("operation names should start with a verb. Cannot determine operation verb from %v", op)
	}
	op = op[len(prefix):]
	var tags []string
	parts := strings.Split(strings.Trim(r.Path(), "/"), "/")
	if len(parts) >= 1 && parts[0] == "api" {
		parts = append([]string{"apis", "core"}, parts[1:]...)
	}
	if len(parts) >= 2 && parts[0] == "apis" {
		trimmed := strings.TrimSuffix(parts[1], ".k8s.io")
		prefix += validOperationID(trimmed, prefix != "")
		tag := validOperationID(trimmed, false)
		if len(parts) > 2 {
			prefix += validOperationID(parts[2], prefix != "")
			tag += "_" + validOperationID(parts[2], false)
		}
		tags = append(tags, tag)
	} else if len(parts) >= 1 {
		tags = append(tags, validOperationID(parts[0], false))
	}
	return prefix + validOperationID(op, prefix != ""), tags, nil
}

// validOperationID is upstream's ToValidOperationID: punctuation removed,
// the letter after it capitalized.
func validOperationID(s string, capitalizeFirst bool) string {
	var b bytes.Buffer
	capitalize := capitalizeFirst
	for i, r := range s {
		if unicode.IsLetter(r) || r == '_' || (i != 0 && unicode.IsDigit(r)) {
			if capitalize {
				b.WriteRune(unicode.ToUpper(r))
				capitalize = false
			} else {
				b.WriteRune(r)
			}
		} else {
			capitalize = true
		}
	}
	return b.String()
}
