package quota

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// evaluator measures the usage of one resource, as upstream's
// quota.Evaluator.
type evaluator interface {
	// handles reports a request that may change the usage.
	handles(op registry.Operation, subresource string, obj, old runtime.Object) bool
	// matchingResources returns the names among in this resource uses.
	matchingResources(in []corev1.ResourceName) []corev1.ResourceName
	// matchesScope reports an object a scope selector selects.
	matchesScope(sel corev1.ScopedResourceSelectorRequirement, obj runtime.Object) (bool, error)
	// constraints checks the object has what the names require.
	constraints(required []corev1.ResourceName, obj runtime.Object) error
	// usage is what the object uses.
	usage(obj runtime.Object) (corev1.ResourceList, error)
}

// ignored are the resources never charged (upstream's
// DefaultIgnoredResources): virtual ones and events.
var ignored = map[schema.GroupResource]bool{
	{Resource: "bindings"}:                                                 true,
	{Resource: "componentstatuses"}:                                        true,
	{Group: "authentication.k8s.io", Resource: "tokenreviews"}:             true,
	{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}:       true,
	{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}:      true,
	{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}:  true,
	{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}: true,
	{Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"}:   true,
	{Resource: "events"}:                         true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// legacyCounts are the old names of some object counts (upstream's
// legacyObjectCountAliases).
var legacyCounts = map[schema.GroupResource]corev1.ResourceName{
	{Resource: "configmaps"}:             corev1.ResourceConfigMaps,
	{Resource: "resourcequotas"}:         corev1.ResourceQuotas,
	{Resource: "replicationcontrollers"}: corev1.ResourceReplicationControllers,
	{Resource: "secrets"}:                corev1.ResourceSecrets,
}

// countName is the object count name of a resource: count/<resource> or
// count/<resource>.<group>.
func countName(gr schema.GroupResource) corev1.ResourceName {
	if gr.Group == "" {
		return corev1.ResourceName("count/" + gr.Resource)
	}
	return corev1.ResourceName("count/" + gr.Resource + "." + gr.Group)
}

// evaluatorFor returns the evaluator of a resource: pods, services and
// claims have their own, any other an object count.
func evaluatorFor(gr schema.GroupResource, now func() time.Time) evaluator {
	switch gr {
	case schema.GroupResource{Resource: "pods"}:
		return podEvaluator{now: now}
	case schema.GroupResource{Resource: "services"}:
		return serviceEvaluator{}
	case schema.GroupResource{Resource: "persistentvolumeclaims"}:
		return pvcEvaluator{}
	}
	e := countEvaluator{names: []corev1.ResourceName{countName(gr)}}
	if alias, ok := legacyCounts[gr]; ok {
		e.names = append(e.names, alias)
	}
	return e
}

// countEvaluator counts objects (upstream's objectCountEvaluator): one per
// object, charged on create.
type countEvaluator struct{ names []corev1.ResourceName }

func (countEvaluator) handles(op registry.Operation, sub string, _, _ runtime.Object) bool {
	return sub == "" && op == registry.OpCreate
}

func (e countEvaluator) matchingResources(in []corev1.ResourceName) []corev1.ResourceName {
	return intersection(in, e.names)
}

func (countEvaluator) matchesScope(corev1.ScopedResourceSelectorRequirement, runtime.Object) (bool, error) {
	return false, nil // upstream's MatchesNoScopeFunc
}

func (countEvaluator) constraints([]corev1.ResourceName, runtime.Object) error { return nil }

func (e countEvaluator) usage(runtime.Object) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for _, n := range e.names {
		out[n] = one()
	}
	return out, nil
}

// scopeSelectors are the scopes of a quota and its scope selector's
// expressions (upstream's getScopeSelectorsFromQuota).
func scopeSelectors(q *corev1.ResourceQuota) []corev1.ScopedResourceSelectorRequirement {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, s := range q.Spec.Scopes {
		out = append(out, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists})
	}
	if q.Spec.ScopeSelector != nil {
		out = append(out, q.Spec.ScopeSelector.MatchExpressions...)
	}
	return out
}

// matches reports a quota that limits something of the object's and
// whose scopes all select it (upstream's generic.Matches).
func matches(e evaluator, q *corev1.ResourceQuota, obj runtime.Object) (bool, error) {
	if len(e.matchingResources(names(q.Status.Hard))) == 0 {
		return false, nil
	}
	for _, s := range scopeSelectors(q) {
		ok, err := e.matchesScope(s, obj)
		if err != nil {
			return false, fmt.Errorf("error on matching scope %v: %w", s, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// isNativeResource is upstream's: unprefixed, or in *kubernetes.io/.
func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}
