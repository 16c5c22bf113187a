package quota

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// forbidden is upstream's admission.NewForbidden: 403 on the resource,
// named by the object's name, else its generateName, else "Unknown".
func forbidden(a *registry.Attributes, err error) error {
	name := "Unknown"
	if a.Object != nil {
		if m, merr := meta.Accessor(a.Object); merr == nil {
			if m.GetName() != "" {
				name = m.GetName()
			} else if m.GetGenerateName() != "" {
				name = m.GetGenerateName()
			}
		}
	}
	return apierrors.NewForbidden(schema.GroupResource{Group: a.Resource.Group, Resource: a.Resource.Resource}, name, err)
}

// hasUsageStats reports a quota with a used value for each of the names
// it limits (upstream's hasUsageStats).
func hasUsageStats(q *corev1.ResourceQuota, interesting []corev1.ResourceName) bool {
	for n := range q.Status.Hard {
		if len(intersection([]corev1.ResourceName{n}, interesting)) == 0 {
			continue
		}
		if _, ok := q.Status.Used[n]; !ok {
			return false
		}
	}
	return true
}

// checkRequest is upstream's CheckRequest: it returns the quotas with the
// request's usage added to those it charges, changed reporting whether
// any was, or the 403 of a quota it exceeds, or the refusal of a use of
// limited resources (--admission-control-config-file) no quota covers.
// quotas are not changed.
func checkRequest(quotas []corev1.ResourceQuota, a *registry.Attributes, e evaluator, limited []LimitedResource) (out []corev1.ResourceQuota, changed bool, err error) {
	lim, err := limitsOf(limited, schema.GroupResource{Group: a.Resource.Group, Resource: a.Resource.Resource}, e, a.Object)
	if err != nil || lim.skip {
		return quotas, false, err
	}
	var interesting []int
	var restrictedScopes []corev1.ScopedResourceSelectorRequirement
	covered := map[corev1.ResourceName]bool{}
	for i := range quotas {
		q := &quotas[i]
		for _, s := range scopeSelectors(q) {
			ok, err := e.matchesScope(s, a.Object)
			if err != nil {
				return nil, false, fmt.Errorf("error matching scopes of quota %s, err: %v", q.Name, err)
			}
			if ok {
				restrictedScopes = append(restrictedScopes, s)
			}
		}
		ok, err := matches(e, q, a.Object)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			continue
		}
		restricted := e.matchingResources(names(q.Status.Hard))
		if err := e.constraints(restricted, a.Object); err != nil {
			return nil, false, forbidden(a, fmt.Errorf("failed quota: %s: %v", q.Name, err))
		}
		if !hasUsageStats(q, restricted) {
			return nil, false, forbidden(a, fmt.Errorf("status unknown for quota: %s, resources: %s", q.Name, prettyPrintNames(restricted)))
		}
		interesting = append(interesting, i)
		for _, n := range restricted {
			covered[n] = true
		}
	}
	if len(interesting) == 0 && len(lim.names) == 0 && len(lim.scopes) == 0 {
		return quotas, false, nil
	}
	input, err := e.usage(a.Object)
	if err != nil {
		return nil, false, err
	}
	if neg := negative(input); len(neg) > 0 {
		return nil, false, forbidden(a, fmt.Errorf("quota usage is negative for resource(s): %s", prettyPrintNames(neg)))
	}
	delta := map[int]corev1.ResourceList{}
	for _, i := range interesting {
		delta[i] = input
	}
	// What the request adds when no quota is charged: limited resources
	// are refused only for a request that consumes something.
	var unquoted corev1.ResourceList
	if a.Operation == registry.OpCreate && len(interesting) == 0 {
		unquoted = input
	}
	if a.Operation == registry.OpUpdate {
		if a.OldObject == nil {
			return nil, false, forbidden(a, fmt.Errorf("unable to get previous usage since prior version of object was not found"))
		}
		if m, err := meta.Accessor(a.OldObject); err == nil && m.GetResourceVersion() != "" {
			prev, err := e.usage(a.OldObject)
			if err != nil {
				return nil, false, err
			}
			d := subtractNonNegative(input, prev)
			if len(interesting) == 0 {
				unquoted = d
			}
			for _, i := range interesting {
				ok, err := matches(e, &quotas[i], a.OldObject)
				if err != nil {
					return nil, false, err
				}
				if ok {
					delta[i] = d
				}
			}
		} else if len(interesting) == 0 {
			unquoted = input
		}
	}
	for i := range delta {
		if delta[i] = removeZeros(delta[i]); len(delta[i]) == 0 {
			delete(delta, i)
		}
	}
	if (len(interesting) != 0 && len(delta) == 0) || (len(interesting) == 0 && len(removeZeros(unquoted)) == 0) {
		return quotas, false, nil
	}
	if err := checkLimits(a, lim, covered, restrictedScopes); err != nil || len(interesting) == 0 {
		return quotas, false, err
	}
	out = make([]corev1.ResourceQuota, len(quotas))
	for i := range quotas {
		out[i] = *quotas[i].DeepCopy()
	}
	for _, i := range interesting {
		d, ok := delta[i]
		if !ok {
			continue
		}
		q := &out[i]
		hard := names(q.Status.Hard)
		requested := mask(d, hard)
		used := add(q.Status.Used, requested)
		if a.Subresource != "status" {
			if ok, exceeded := lessOrEqual(mask(used, names(requested)), q.Status.Hard); !ok {
				return nil, false, forbidden(a, fmt.Errorf("exceeded quota: %s, requested: %s, used: %s, limited: %s",
					q.Name, prettyPrint(mask(requested, exceeded)), prettyPrint(mask(q.Status.Used, exceeded)), prettyPrint(mask(q.Status.Hard, exceeded))))
			}
		}
		if !equal(used, q.Status.Used) {
			changed = true
		}
		q.Status.Used = used
	}
	return out, changed, nil
}

// checkLimits refuses a request that consumes a limited resource no
// matching quota limits, or matches a limited scope no quota selects
// (upstream's messages and codes).
func checkLimits(a *registry.Attributes, lim limits, covered map[corev1.ResourceName]bool, quotaScopes []corev1.ScopedResourceSelectorRequirement) error {
	var missing []string
	for _, n := range lim.names {
		if !covered[n] && !slices.Contains(missing, string(n)) {
			missing = append(missing, string(n))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return forbidden(a, fmt.Errorf("insufficient quota to consume: %v", strings.Join(missing, ",")))
	}
	uncovered := []corev1.ScopedResourceSelectorRequirement{}
	for _, s := range lim.scopes {
		if !slices.ContainsFunc(quotaScopes, func(q corev1.ScopedResourceSelectorRequirement) bool { return q.ScopeName == s.ScopeName }) {
			uncovered = append(uncovered, s)
		}
	}
	if len(uncovered) > 0 {
		// a plain error upstream, which its handler answers as 500
		// with no reason and the message as it is
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
			Reason: metav1.StatusReasonUnknown, Message: fmt.Sprintf("insufficient quota to match these scopes: %v", uncovered)}}
	}
	return nil
}
