package admission

import (
	"context"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// The matching of upstream's predicates: rules (rules.Matcher), the
// namespace selector (namespace.Matcher) and the object selector
// (object.Matcher).

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// ruleMatches is upstream's rules.Matcher.Matches.
func ruleMatches(r admissionv1.RuleWithOperations, a *registry.Attributes) bool {
	if r.Scope != nil && *r.Scope != admissionv1.AllScopes {
		clusterScoped := a.Resource == namespacesGVR || a.Namespace == ""
		switch *r.Scope {
		case admissionv1.NamespacedScope:
			if clusterScoped {
				return false
			}
		case admissionv1.ClusterScope:
			if !clusterScoped {
				return false
			}
		default:
			return false
		}
	}
	op := false
	for _, o := range r.Operations {
		if o == admissionv1.OperationAll || string(o) == string(a.Operation) {
			op = true
			break
		}
	}
	if !op || !exactOrWildcard(r.APIGroups, a.Resource.Group) || !exactOrWildcard(r.APIVersions, a.Resource.Version) {
		return false
	}
	for _, res := range r.Resources {
		name, sub, _ := strings.Cut(res, "/")
		if (name == "*" || name == a.Resource.Resource) && (sub == "*" || sub == a.Subresource) {
			return true
		}
	}
	return false
}

func exactOrWildcard(items []string, requested string) bool {
	for _, it := range items {
		if it == "*" || it == requested {
			return true
		}
	}
	return false
}

// selector parses a label selector; nil selects everything.
func selector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// namespaceMatches is upstream's MatchNamespaceSelector: requests on
// cluster-scoped objects other than namespaces match; a namespace's own
// create or update is matched on its new labels.
func (c *Chain) namespaceMatches(ctx context.Context, sel labels.Selector, a *registry.Attributes) (bool, error) {
	if a.Namespace == "" && a.Resource.Resource != "namespaces" {
		return true, nil
	}
	if sel.Empty() {
		return true, nil
	}
	if a.Resource.Resource == "namespaces" && a.Subresource == "" && (a.Operation == registry.OpCreate || a.Operation == registry.OpUpdate) {
		return sel.Matches(labels.Set(labelsOf(a.Object))), nil
	}
	ns, err := c.namespace(ctx, a.Namespace)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return false, err
		}
		return false, apierrors.NewInternalError(err)
	}
	return sel.Matches(labels.Set(ns.Labels)), nil
}

// namespace reads a namespace from the watch cache, then from etcd when
// the cache does not have it yet.
func (c *Chain) namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	st := c.reg.Namespaces()
	if st == nil {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, name)
	}
	obj, err := st.Get(ctx, "", name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = st.Get(ctx, "", name, &metav1.GetOptions{})
	}
	if err != nil {
		return nil, err
	}
	ns, ok := cacheable.Unwrap(obj).(*corev1.Namespace)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("namespace %s: unexpected %T", name, obj))
	}
	return ns, nil
}

func labelsOf(obj runtime.Object) map[string]string {
	if obj == nil {
		return nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil
	}
	return m.GetLabels()
}

// objectMatches is upstream's MatchObjectSelector: the new or the old
// object matches.
func objectMatches(sel labels.Selector, a *registry.Attributes) bool {
	if sel.Empty() {
		return true
	}
	match := func(obj runtime.Object) bool {
		if obj == nil {
			return false
		}
		if _, err := meta.Accessor(obj); err != nil {
			return false
		}
		return sel.Matches(labels.Set(labelsOf(obj)))
	}
	return match(a.Object) || match(a.OldObject)
}
