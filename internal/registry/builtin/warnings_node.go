package builtin

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/regis-dev/regis/internal/registry"
)

// The warnings about nodes and node labels: upstream's pkg/api/node
// (deprecated node labels in selectors) and the node and runtime class
// strategies.

// deprecatedNodeLabels are upstream's deprecated node labels and what each
// warning says about them.
var deprecatedNodeLabels = map[string]string{
	`beta.kubernetes.io/arch`:                       `deprecated since v1.14; use "kubernetes.io/arch" instead`,
	`beta.kubernetes.io/os`:                         `deprecated since v1.14; use "kubernetes.io/os" instead`,
	`failure-domain.beta.kubernetes.io/region`:      `deprecated since v1.17; use "topology.kubernetes.io/region" instead`,
	`failure-domain.beta.kubernetes.io/zone`:        `deprecated since v1.17; use "topology.kubernetes.io/zone" instead`,
	`beta.kubernetes.io/instance-type`:              `deprecated since v1.17; use "node.kubernetes.io/instance-type" instead`,
	`app.kubernetes.io/created-by`:                  `deprecated since v1.9`,
	`scheduler.alpha.kubernetes.io/preferAvoidPods`: `deprecated since v1.22; use Taints and Tolerations instead`,
	`node-role.kubernetes.io/master`:                `use "node-role.kubernetes.io/control-plane" instead`,
}

// sortedKeys returns the keys of m in order. Upstream ranges over its maps,
// so that its warnings about several keys come in no fixed order; regis
// sorts them.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// nodeSelectorTermWarnings is upstream's GetWarningsForNodeSelectorTerm:
// deprecated node labels in a term's match expressions and, when
// checkValues (preferred terms), values that are no label values.
func nodeSelectorTermWarnings(term corev1.NodeSelectorTerm, checkValues bool, path *field.Path) []string {
	var warnings []string
	for i, expr := range term.MatchExpressions {
		if msg, ok := deprecatedNodeLabels[expr.Key]; ok {
			warnings = append(warnings, fmt.Sprintf("%s: %s is %s", path.Child("matchExpressions").Index(i).Child("key"), expr.Key, msg))
		}
		if !checkValues {
			continue
		}
		for j, value := range expr.Values {
			for _, msg := range registry.IsValidLabelValue(value) {
				warnings = append(warnings, fmt.Sprintf("%s: %s is invalid, %s",
					path.Child("matchExpressions").Index(i).Child("values").Index(j), value, msg))
			}
		}
	}
	return warnings
}

// labelSelectorNodeWarnings is upstream's GetWarningsForNodeSelector: a
// label selector over node labels (a CSI storage capacity's topology).
func labelSelectorNodeWarnings(sel *metav1.LabelSelector, path *field.Path) []string {
	if sel == nil {
		return nil
	}
	var warnings []string
	for i, expr := range sel.MatchExpressions {
		if msg, ok := deprecatedNodeLabels[expr.Key]; ok {
			warnings = append(warnings, fmt.Sprintf("%s: %s is %s", path.Child("matchExpressions").Index(i).Child("key"), expr.Key, msg))
		}
	}
	for _, label := range sortedKeys(sel.MatchLabels) {
		if msg, ok := deprecatedNodeLabels[label]; ok {
			warnings = append(warnings, fmt.Sprintf("%s: %s", path.Child("matchLabels").Child(label), msg))
		}
	}
	return warnings
}

// runtimeClassWarnings is upstream's GetWarningsForRuntimeClass, on create
// and update: one warning per deprecated label of scheduling.nodeSelector,
// each naming the selector only.
func runtimeClassWarnings(o runtime.Object) []string {
	rc := o.(*nodev1.RuntimeClass)
	if rc.Scheduling == nil {
		return nil
	}
	var warnings []string
	for _, key := range sortedKeys(rc.Scheduling.NodeSelector) {
		if msg, ok := deprecatedNodeLabels[key]; ok {
			warnings = append(warnings, fmt.Sprintf("%s: %s", field.NewPath("scheduling", "nodeSelector"), msg))
		}
	}
	return warnings
}

// nodeWarnings is the node strategy's warnings, on create and update: a
// config source, an external ID and non-canonical pod CIDRs.
func nodeWarnings(o runtime.Object) []string {
	node := o.(*corev1.Node)
	var warnings []string
	if node.Spec.ConfigSource != nil {
		warnings = append(warnings, "spec.configSource: the feature is removed")
	}
	if node.Spec.DoNotUseExternalID != "" {
		warnings = append(warnings, "spec.externalID: this field is deprecated, and is unused by Kubernetes")
	}
	for i, cidr := range node.Spec.PodCIDRs {
		warnings = append(warnings, cidrWarnings(field.NewPath("spec", "podCIDRs").Index(i), cidr)...)
	}
	return warnings
}

// onUpdate adapts a warnings function of the new object alone to
// WarningsOnUpdate, for the strategies whose update warnings are their
// create warnings.
func onUpdate(fn func(runtime.Object) []string) func(obj, old runtime.Object) []string {
	return func(obj, _ runtime.Object) []string { return fn(obj) }
}

// ipWarnings is GetWarningsForIP for a value validation accepted; it
// returns nothing for one that is no IP (an FQDN endpoint slice's
// addresses), where upstream logs an error and returns nothing.
func ipWarnings(path *field.Path, value string) []string {
	if netutils.ParseIPSloppy(value) == nil {
		return nil
	}
	return validation.GetWarningsForIP(path, value)
}

// cidrWarnings is GetWarningsForCIDR as ipWarnings is GetWarningsForIP.
func cidrWarnings(path *field.Path, value string) []string {
	if _, _, err := netutils.ParseCIDRSloppy(value); err != nil {
		return nil
	}
	return validation.GetWarningsForCIDR(path, value)
}
