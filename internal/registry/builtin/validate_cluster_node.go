package builtin

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/regis-dev/regis/internal/registry"
)

// Nodes (k8s.io/kubernetes pkg/apis/core/validation ValidateNode and
// ValidateNodeUpdate, pkg/registry/core/node, v1.37). Upstream validates a
// create with ValidateNode, an update of the node with ValidateNode then
// ValidateNodeUpdate (so some errors come twice, as there), and a status
// update with ValidateNodeUpdate only. The store runs validateNode on all
// three, validateNodeCreate on create and validateNodeUpdate on updates of
// the node only, so: the swap status is checked by validateNodeCreate
// (after the declared features and pod CIDRs, where upstream checks it
// before them) and by validateNodeUpdate, and the addresses on updates only
// (see beingUpdated).
//
// The node config source (spec.configSource, status.config) is dropped by
// prepareNode and prepareNodeUpdate before validation, as upstream's
// strategies do: its checks never run there and are not written here.

// validateNode is upstream's ValidateNode, metadata and swap status aside.
func validateNode(o runtime.Object) field.ErrorList {
	n := o.(*corev1.Node)
	meta := field.NewPath("metadata")
	errs := validateNodeAnnotations(n.Annotations, meta.Child("annotations"))
	if len(n.Spec.Taints) > 0 {
		errs = append(errs, validateNodeTaints(n.Spec.Taints, meta.Child("taints"))...)
	}
	errs = append(errs, validateNodeResources(n)...)
	errs = append(errs, validateDeclaredFeatures(n.Status.DeclaredFeatures, field.NewPath("status", "declaredFeatures"))...)
	errs = append(errs, validatePodCIDRs(n.Spec.PodCIDRs)...)
	if beingUpdated(o) {
		errs = append(errs, validateNodeAddresses(n.Status.Addresses)...)
	}
	return errs
}

// validateNodeCreate is the swap status ValidateNode checks on create.
func validateNodeCreate(o runtime.Object) field.ErrorList {
	return validateNodeSwap(o.(*corev1.Node).Status.NodeInfo.Swap, field.NewPath("metadata", "nodeSwapStatus"))
}

// validateNodeUpdate is the rest of an update of the node: ValidateNode's
// swap status, then upstream's ValidateNodeUpdate but for the addresses
// (checked by validateNode).
func validateNodeUpdate(o, old runtime.Object) field.ErrorList {
	n, prev := o.(*corev1.Node), old.(*corev1.Node)
	meta := field.NewPath("metadata")
	errs := validateNodeSwap(n.Status.NodeInfo.Swap, meta.Child("nodeSwapStatus"))
	errs = append(errs, validateNodeAnnotations(n.Annotations, meta.Child("annotations"))...)
	errs = append(errs, validateNodeResources(n)...)
	errs = append(errs, validateDeclaredFeatures(n.Status.DeclaredFeatures, field.NewPath("status", "declaredFeatures"))...)
	errs = append(errs, validatePodCIDRsUpdate(n.Spec.PodCIDRs, prev.Spec.PodCIDRs)...)
	errs = append(errs, validateProviderIDUpdate(n.Spec.ProviderID, prev.Spec.ProviderID)...)
	if len(n.Spec.Taints) > 0 {
		errs = append(errs, validateNodeTaints(n.Spec.Taints, meta.Child("taints"))...)
	}
	if n.Spec.DoNotUseExternalID != prev.Spec.DoNotUseExternalID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "externalID"), "may not be updated"))
	}
	return errs
}

func validatePodCIDRs(cidrs []string) field.ErrorList {
	if len(cidrs) == 0 {
		return nil
	}
	path := field.NewPath("spec", "podCIDRs")
	var errs field.ErrorList
	for i, c := range cidrs {
		errs = append(errs, validation.IsValidCIDRForLegacyField(path.Index(i), c, true, nil)...)
	}
	if len(cidrs) > 1 {
		dual, err := netutils.IsDualStackCIDRStrings(cidrs)
		if err != nil {
			errs = append(errs, field.InternalError(path, fmt.Errorf("invalid PodCIDRs. failed to check with dual stack with error:%v", err)))
		}
		if !dual || len(cidrs) > 2 {
			errs = append(errs, field.Invalid(path, cidrs, "may specify no more than one CIDR for each IP family"))
		}
	}
	return errs
}

// validatePodCIDRsUpdate lets the pod CIDRs be set once only.
func validatePodCIDRsUpdate(cidrs, old []string) field.ErrorList {
	if len(old) == 0 {
		return nil
	}
	path := field.NewPath("spec", "podCIDRs")
	const msg = `node updates may not change podCIDR except from "" to valid`
	if len(old) != len(cidrs) {
		return field.ErrorList{field.Forbidden(path, msg)}
	}
	var errs field.ErrorList
	for i, c := range old {
		if c != cidrs[i] {
			errs = append(errs, field.Forbidden(path, msg))
		}
	}
	return errs
}

// validateProviderIDUpdate lets the provider ID be set once only.
func validateProviderIDUpdate(id, old string) field.ErrorList {
	path := field.NewPath("spec", "providerID")
	switch {
	case old != "" && id != "" && old != id:
		return field.ErrorList{field.Invalid(path, nil, "field cannot be modified once set")}
	case old != "" && id == "":
		return field.ErrorList{field.Invalid(path, nil, "field cannot be cleared once set")}
	}
	return nil
}

// validateNodeTaints is upstream's: label keys and values, effects, and
// one taint per key and effect.
func validateNodeTaints(taints []corev1.Taint, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.TaintEffect]sets.Set[string]{}
	for i, t := range taints {
		p := path.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
		if msgs := registry.IsValidLabelValue(t.Value); len(msgs) != 0 {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, strings.Join(msgs, ";")))
		}
		errs = append(errs, validateNodeTaintEffect(t.Effect, p.Child("effect"))...)
		if seen[t.Effect].Has(t.Key) {
			dup := field.Duplicate(p, internalJSON{t})
			dup.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, dup)
			continue
		}
		if seen[t.Effect] == nil {
			seen[t.Effect] = sets.New[string]()
		}
		seen[t.Effect].Insert(t.Key)
	}
	return errs
}

func validateNodeTaintEffect(e corev1.TaintEffect, path *field.Path) field.ErrorList {
	switch e {
	case "":
		return field.ErrorList{field.Required(path, "")}
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		return nil
	}
	return field.ErrorList{field.NotSupported(path, e,
		[]corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute})}
}

// validateNodeResources is upstream's ValidateNodeResources.
func validateNodeResources(n *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	for k, v := range n.Status.Capacity {
		errs = append(errs, validateQuantityValue(k, v, field.NewPath("status", "capacity", string(k)))...)
	}
	for k, v := range n.Status.Allocatable {
		errs = append(errs, validateQuantityValue(k, v, field.NewPath("status", "allocatable", string(k)))...)
	}
	return errs
}

// validateNodeSwap is upstream's validateNodeSwapStatus.
func validateNodeSwap(s *corev1.NodeSwapStatus, path *field.Path) field.ErrorList {
	if s == nil || s.Capacity == nil || *s.Capacity > 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(path.Child("capacity"), *s.Capacity, "must be greater than zero")}
}

var declaredFeatureRE = regexp.MustCompile(`^[A-Z][a-zA-Z0-9]*(\/[a-zA-Z][a-zA-Z0-9]*)*$`)

// validateDeclaredFeatures is upstream's validateNodeDeclaredFeatures:
// valid names, sorted, without duplicates.
func validateDeclaredFeatures(features []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range features {
		switch {
		case len(f) > validation.DNS1123SubdomainMaxLength:
			errs = append(errs, field.Invalid(path.Index(i), f, fmt.Sprintf("invalid feature name %q: must be no more than %d characters", f, validation.DNS1123SubdomainMaxLength)))
		case !declaredFeatureRE.MatchString(f):
			errs = append(errs, field.Invalid(path.Index(i), f, fmt.Sprintf("invalid feature name %q: must start with an UpperCamelCase segment, with subsequent segments separated by '/' (e.g., MyFeature or MyFeature/mySubFeature), and contain only alphanumeric characters and slashes", f)))
		}
		if i+1 < len(features) {
			next := features[i+1]
			if f == next {
				errs = append(errs, field.Duplicate(path.Index(i+1), next))
			} else if f > next {
				errs = append(errs, field.Invalid(path.Index(i+1), next, "list must be sorted alphabetically"))
			}
		}
	}
	return errs
}

// validateNodeAddresses refuses a repeated address (ValidateNodeUpdate).
func validateNodeAddresses(addrs []corev1.NodeAddress) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.NodeAddress]bool{}
	for i, a := range addrs {
		if seen[a] {
			errs = append(errs, field.Duplicate(field.NewPath("status", "addresses").Index(i), internalJSON{a}))
		}
		seen[a] = true
	}
	return errs
}

// validateNodeAnnotations is upstream's ValidateNodeSpecificAnnotations:
// the taints and preferAvoidPods annotations the scheduler once read.
func validateNodeAnnotations(annotations map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v := annotations[taintsAnnotation]; v != "" {
		var taints []corev1.Taint
		if err := json.Unmarshal([]byte(v), &taints); err != nil {
			errs = append(errs, field.Invalid(path, taintsAnnotation, internalTypeNames.Replace(err.Error())))
		} else if len(taints) > 0 {
			errs = append(errs, validateNodeTaints(taints, path.Child(taintsAnnotation))...)
		}
	}
	if annotations[corev1.PreferAvoidPodsAnnotationKey] != "" {
		errs = append(errs, validateAvoidPods(annotations, path)...)
	}
	return errs
}

// taintsAnnotation is upstream's core.TaintsAnnotationKey.
const taintsAnnotation = "scheduler.alpha.kubernetes.io/taints"

// internalTypeNames names the types of a JSON error as the internal types
// upstream decodes into.
var internalTypeNames = strings.NewReplacer("v1.Taint", "core.Taint")

// validateAvoidPods is upstream's ValidateAvoidPodsInNodeAnnotations.
func validateAvoidPods(annotations map[string]string, path *field.Path) field.ErrorList {
	const key = corev1.PreferAvoidPodsAnnotationKey
	var avoids corev1.AvoidPods
	if err := json.Unmarshal([]byte(annotations[key]), &avoids); err != nil {
		return field.ErrorList{field.Invalid(path.Child("AvoidPods"), key, err.Error())}
	}
	var errs field.ErrorList
	for i, e := range avoids.PreferAvoidPods {
		p := path.Child(key).Index(i).Child("PodSignature")
		c := e.PodSignature.PodController
		switch {
		case c == nil:
			errs = append(errs, field.Required(p, ""))
		case c.Controller == nil || !*c.Controller:
			errs = append(errs, field.Invalid(p.Child("PodController", "Controller"), false, "must point to a controller"))
		}
	}
	return errs
}
