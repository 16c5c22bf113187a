package builtin

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Validation of limit ranges and resource quotas (k8s.io/kubernetes
// pkg/apis/core/validation, v1.37), metadata excluded.

var standardLimitRangeTypes = sets.New(corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim)

// validateLimitRange is upstream's ValidateLimitRange, on the limit range
// as defaulted (defaultLimitRange).
func validateLimitRange(o runtime.Object) field.ErrorList {
	lr := o.(*corev1.LimitRange)
	var errs field.ErrorList
	types := sets.New[corev1.LimitType]()
	path := field.NewPath("spec", "limits")
	for i := range lr.Spec.Limits {
		errs = append(errs, validateLimitRangeItem(&lr.Spec.Limits[i], path.Index(i), types)...)
	}
	return errs
}

func validateLimitRangeItem(l *corev1.LimitRangeItem, p *field.Path, types sets.Set[corev1.LimitType]) field.ErrorList {
	errs := validateLimitType(l.Type, p.Child("type"))
	if types.Has(l.Type) {
		errs = append(errs, field.Duplicate(p.Child("type"), l.Type))
	}
	types.Insert(l.Type)
	keys := sets.New[corev1.ResourceName]()
	names := func(list corev1.ResourceList, child string) {
		for _, k := range sortedResourceNames(list) {
			errs = append(errs, validateLimitRangeResourceName(l.Type, k, p.Child(child).Key(string(k)))...)
			keys.Insert(k)
		}
	}
	names(l.Max, "max")
	names(l.Min, "min")
	if l.Type == corev1.LimitTypePod {
		if len(l.Default) > 0 {
			errs = append(errs, field.Forbidden(p.Child("default"), "may not be specified when `type` is 'Pod'"))
		}
		if len(l.DefaultRequest) > 0 {
			errs = append(errs, field.Forbidden(p.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
		}
	} else {
		names(l.Default, "default")
		names(l.DefaultRequest, "defaultRequest")
	}
	if l.Type == corev1.LimitTypePersistentVolumeClaim {
		_, hasMin := l.Min[corev1.ResourceStorage]
		_, hasMax := l.Max[corev1.ResourceStorage]
		if !hasMin && !hasMax {
			errs = append(errs, field.Required(p.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
		}
	}
	names(l.MaxLimitRequestRatio, "maxLimitRequestRatio")
	for _, k := range sets.List(keys) {
		errs = append(errs, validateLimitRangeBounds(l, k, p)...)
	}
	return errs
}

// validateLimitType is upstream's validateLimitRangeTypeName.
func validateLimitType(t corev1.LimitType, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range registry.IsQualifiedName(string(t)) {
		errs = append(errs, field.Invalid(p, t, msg))
	}
	if len(errs) == 0 && !strings.Contains(string(t), "/") && !standardLimitRangeTypes.Has(t) {
		errs = append(errs, field.Invalid(p, t, "must be a standard limit type or fully qualified"))
	}
	return errs
}

func validateLimitRangeResourceName(t corev1.LimitType, name corev1.ResourceName, p *field.Path) field.ErrorList {
	if t == corev1.LimitTypePod || t == corev1.LimitTypeContainer {
		return validateContainerResourceName(name, p)
	}
	return validateResourceName(name, p)
}

// validateLimitRangeBounds orders a resource's min, default request,
// default and max, and bounds its limit/request ratio.
func validateLimitRangeBounds(l *corev1.LimitRangeItem, k corev1.ResourceName, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	key := string(k)
	minQ, hasMin := l.Min[k]
	maxQ, hasMax := l.Max[k]
	def, hasDef := l.Default[k]
	req, hasReq := l.DefaultRequest[k]
	ratio, hasRatio := l.MaxLimitRequestRatio[k]
	invalid := func(child string, v resource.Quantity, format string, args ...any) {
		errs = append(errs, field.Invalid(p.Child(child).Key(key), v, fmt.Sprintf(format, args...)))
	}
	if hasMin && hasMax && minQ.Cmp(maxQ) > 0 {
		invalid("min", minQ, "min value %s is greater than max value %s", minQ.String(), maxQ.String())
	}
	if hasReq && hasMin && minQ.Cmp(req) > 0 {
		invalid("defaultRequest", req, "min value %s is greater than default request value %s", minQ.String(), req.String())
	}
	if hasReq && hasMax && req.Cmp(maxQ) > 0 {
		invalid("defaultRequest", req, "default request value %s is greater than max value %s", req.String(), maxQ.String())
	}
	if hasReq && hasDef && req.Cmp(def) > 0 {
		invalid("defaultRequest", req, "default request value %s is greater than default limit value %s", req.String(), def.String())
	}
	if hasDef && hasMin && minQ.Cmp(def) > 0 {
		invalid("default", minQ, "min value %s is greater than default value %s", minQ.String(), def.String())
	}
	if hasDef && hasMax && def.Cmp(maxQ) > 0 {
		invalid("default", maxQ, "default value %s is greater than max value %s", def.String(), maxQ.String())
	}
	if hasRatio && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0 {
		invalid("maxLimitRequestRatio", ratio, "ratio %s is less than 1", ratio.String())
	}
	if hasRatio && hasMin && hasMax {
		if limit := maxRatioLimit(minQ, maxQ, ratio); limit.exceeded {
			invalid("maxLimitRequestRatio", ratio, "ratio %s is greater than max/min = %f", ratio.String(), limit.value)
		}
	}
	if !overcommitAllowed(k) && hasDef && hasReq && def.Cmp(req) != 0 {
		invalid("defaultRequest", req, "default value %s must equal to defaultRequest value %s in %s", def.String(), req.String(), key)
	}
	return errs
}

type ratioLimit struct {
	value    float64
	exceeded bool
}

// maxRatioLimit is max/min, compared with the ratio in milli-units when
// all three fit.
func maxRatioLimit(minQ, maxQ, ratio resource.Quantity) ratioLimit {
	r := float64(ratio.Value())
	lo, hi := minQ.Value(), maxQ.Value()
	if ratio.Value() < resource.MaxMilliValue && lo < resource.MaxMilliValue && hi < resource.MaxMilliValue {
		r = float64(ratio.MilliValue()) / 1000
		lo, hi = minQ.MilliValue(), maxQ.MilliValue()
	}
	limit := float64(hi) / float64(lo)
	return ratioLimit{value: limit, exceeded: r > limit}
}

var standardQuotaScopes = sets.New(corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopePriorityClass,
	corev1.ResourceQuotaScopeVolumeAttributesClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity)

var standardQuotaResources = sets.New[corev1.ResourceName](
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
	corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets, corev1.ResourcePersistentVolumeClaims, corev1.ResourceConfigMaps,
	corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
)

func isStandardQuotaResource(name corev1.ResourceName) bool {
	return standardQuotaResources.Has(name) || isHugePages(name) ||
		strings.HasPrefix(string(name), corev1.ResourceRequestsHugePagesPrefix)
}

var (
	podComputeQuotaResources = sets.New[corev1.ResourceName](corev1.ResourcePods, corev1.ResourceCPU, corev1.ResourceMemory,
		corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory)
	pvcQuotaResources = sets.New[corev1.ResourceName](corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage)
)

// quotaScopeAllows is upstream's IsResourceQuotaScopeValidForResource.
func quotaScopeAllows(scope corev1.ResourceQuotaScope, name corev1.ResourceName) bool {
	switch scope {
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeNotBestEffort,
		corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return podComputeQuotaResources.Has(name)
	case corev1.ResourceQuotaScopeBestEffort:
		return name == corev1.ResourcePods
	case corev1.ResourceQuotaScopeVolumeAttributesClass:
		return pvcQuotaResources.Has(name)
	}
	return true
}

func validateResourceQuota(o runtime.Object) field.ErrorList {
	rq := o.(*corev1.ResourceQuota)
	errs := validateQuotaSpec(&rq.Spec, field.NewPath("spec"))
	status := field.NewPath("status")
	errs = append(errs, validateQuotaList(rq.Status.Hard, status.Child("hard"))...)
	return append(errs, validateQuotaList(rq.Status.Used, status.Child("used"))...)
}

// validateQuotaList checks the resources of a quota's hard or used list.
func validateQuotaList(list corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedResourceNames(list) {
		kp := p.Key(string(k))
		errs = append(errs, validateResourceName(k, kp)...)
		if !strings.Contains(string(k), "/") && !isStandardQuotaResource(k) {
			errs = append(errs, field.Invalid(kp, k, "must be a standard resource for quota"))
		}
		errs = append(errs, validateQuantityValue(k, list[k], kp)...)
	}
	return errs
}

// validateQuotaSpec is upstream's ValidateResourceQuotaSpec.
func validateQuotaSpec(s *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	errs := validateQuotaList(s.Hard, p.Child("hard"))
	errs = append(errs, validateQuotaScopes(s, p.Child("scopes"))...)
	if s.ScopeSelector != nil {
		errs = append(errs, validateQuotaScopeSelector(s, p.Child("scopeSelector", "matchExpressions"))...)
	}
	return errs
}

func validateQuotaScopes(s *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.Scopes) == 0 {
		return nil
	}
	hard := sortedResourceNames(s.Hard)
	for _, scope := range s.Scopes {
		if !standardQuotaScopes.Has(scope) {
			errs = append(errs, field.Invalid(p, s.Scopes, "unsupported scope"))
		}
		for _, k := range hard {
			if isStandardQuotaResource(k) && !quotaScopeAllows(scope, k) {
				errs = append(errs, field.Invalid(p, s.Scopes, "unsupported scope applied to resource"))
			}
		}
	}
	for range conflictingScopePairs(sets.New(s.Scopes...)) {
		errs = append(errs, field.Invalid(p, s.Scopes, "conflicting scopes"))
	}
	return errs
}

// conflictingScopePairs counts the pairs BestEffort and NotBestEffort,
// and Terminating and NotTerminating, in a set of scopes.
func conflictingScopePairs(set sets.Set[corev1.ResourceQuotaScope]) int {
	n := 0
	if set.HasAll(corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort) {
		n++
	}
	if set.HasAll(corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating) {
		n++
	}
	return n
}

func validateQuotaScopeSelector(s *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	hard := sortedResourceNames(s.Hard)
	for _, req := range s.ScopeSelector.MatchExpressions {
		if !standardQuotaScopes.Has(req.ScopeName) {
			errs = append(errs, field.Invalid(p.Child("scopeName"), req.ScopeName, "unsupported scope"))
		}
		for _, k := range hard {
			if isStandardQuotaResource(k) && !quotaScopeAllows(req.ScopeName, k) {
				errs = append(errs, field.Invalid(p, internalJSON{s.ScopeSelector}, "unsupported scope applied to resource"))
			}
		}
		errs = append(errs, validateScopeOperator(req, p)...)
	}
	set := sets.New[corev1.ResourceQuotaScope]()
	for _, req := range s.ScopeSelector.MatchExpressions {
		set.Insert(req.ScopeName)
	}
	// Upstream prints the scopes, not the selector.
	for range conflictingScopePairs(set) {
		errs = append(errs, field.Invalid(p, s.Scopes, "conflicting scopes"))
	}
	return errs
}

func validateScopeOperator(req corev1.ScopedResourceSelectorRequirement, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch req.ScopeName {
	case corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeTerminating,
		corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		if req.Operator != corev1.ScopeSelectorOpExists {
			errs = append(errs, field.Invalid(p.Child("operator"), req.Operator,
				"must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"))
		}
	}
	switch req.Operator {
	case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
		if len(req.Values) == 0 {
			errs = append(errs, field.Required(p.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
		}
	case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
		if len(req.Values) != 0 {
			errs = append(errs, field.Invalid(p.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
		}
	default:
		errs = append(errs, field.Invalid(p.Child("operator"), req.Operator, "not a valid selector operator"))
	}
	return errs
}

// validateResourceQuotaUpdate is the update part of upstream's
// ValidateResourceQuotaUpdate (validateResourceQuota checks the spec):
// the scopes are immutable, in any order.
func validateResourceQuotaUpdate(o, old runtime.Object) field.ErrorList {
	rq, prev := o.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	if !sets.New(rq.Spec.Scopes...).Equal(sets.New(prev.Spec.Scopes...)) {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "scopes"), rq.Spec.Scopes, apivalidation.FieldImmutableErrorMsg)}
	}
	return nil
}
