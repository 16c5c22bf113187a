package builtin

import (
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Nodes, limit ranges and PodDisruptionBudgets: upstream's defaulting and
// conversion (pkg/apis/core/v1) and the strategies of pkg/registry/core/node
// and pkg/registry/policy/poddisruptionbudget (v1.37).

// defaultNode is SetDefaults_NodeStatus (the allocatable resources default
// to the capacity) and what the round trip through the internal type does
// to the pod CIDRs: podCIDR wins when it is set and differs from
// podCIDRs[0], fills podCIDRs when they are empty, and is podCIDRs[0]
// when stored.
func defaultNode(o runtime.Object) {
	n := o.(*corev1.Node)
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = n.Status.Capacity.DeepCopy()
	}
	s := &n.Spec
	if s.PodCIDR != "" && (len(s.PodCIDRs) == 0 || s.PodCIDRs[0] != s.PodCIDR) {
		s.PodCIDRs = []string{s.PodCIDR}
	}
	s.PodCIDR = ""
	if len(s.PodCIDRs) > 0 {
		s.PodCIDR = s.PodCIDRs[0]
	}
}

// prepareNode is the strategy's PrepareForCreate, which drops the config
// source (spec.configSource, status.config) and the pod preemption policy
// (InPlacePodVerticalScalingSchedulerPreemption is off), and adds the
// taint the TaintNodesByCondition admission plugin puts on every new node.
func prepareNode(o runtime.Object) {
	n := o.(*corev1.Node)
	n.Spec.ConfigSource = nil
	n.Status.Config = nil
	n.Spec.PodPreemptionPolicy = nil
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady {
			return
		}
	}
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule})
}

// prepareNodeUpdate is the strategy's PrepareForUpdate: the config source
// and the pod preemption policy are dropped unless the stored node has
// them (the store keeps the stored status).
func prepareNodeUpdate(o, old runtime.Object) {
	n, prev := o.(*corev1.Node), old.(*corev1.Node)
	if prev.Spec.ConfigSource == nil {
		n.Spec.ConfigSource = nil
	}
	if prev.Spec.PodPreemptionPolicy == nil {
		n.Spec.PodPreemptionPolicy = nil
	}
}

// prepareNodeStatusUpdate is the status strategy's PrepareForUpdate:
// status.config is dropped unless the stored node has one. The metadata
// sent is kept, as there.
func prepareNodeStatusUpdate(o, old runtime.Object) {
	n, prev := o.(*corev1.Node), old.(*corev1.Node)
	if prev.Status.Config == nil {
		n.Status.Config = nil
	}
}

// defaultLimitRange is upstream's SetDefaults_LimitRangeItem: a
// container's default limit is its max, its default request the default
// limit, else the min.
func defaultLimitRange(o runtime.Object) {
	lr := o.(*corev1.LimitRange)
	for i := range lr.Spec.Limits {
		l := &lr.Spec.Limits[i]
		if l.Type != corev1.LimitTypeContainer {
			continue
		}
		if l.Default == nil {
			l.Default = corev1.ResourceList{}
		}
		if l.DefaultRequest == nil {
			l.DefaultRequest = corev1.ResourceList{}
		}
		fillMissing(l.Default, l.Max)
		fillMissing(l.DefaultRequest, l.Default)
		fillMissing(l.DefaultRequest, l.Min)
	}
}

func fillMissing(dst, src corev1.ResourceList) {
	for k, v := range src {
		if _, ok := dst[k]; !ok {
			dst[k] = v.DeepCopy()
		}
	}
}

// pdbV1beta1Label is the label policy/v1beta1 selectors used to match all
// or no pods (upstream's policy.PDBV1beta1Label).
const pdbV1beta1Label = "pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match"

// preparePodDisruptionBudget is the strategy's dropDisabledFields on
// create: see stripPDBV1beta1Label.
func preparePodDisruptionBudget(o runtime.Object) {
	stripPDBV1beta1Label(o.(*policyv1.PodDisruptionBudget).Spec.Selector)
}

// preparePodDisruptionBudgetUpdate is the same on update, when the
// selector changed.
func preparePodDisruptionBudgetUpdate(o, old runtime.Object) {
	pdb, prev := o.(*policyv1.PodDisruptionBudget), old.(*policyv1.PodDisruptionBudget)
	if equality.Semantic.DeepEqual(prev.Spec.Selector, pdb.Spec.Selector) {
		return
	}
	stripPDBV1beta1Label(pdb.Spec.Selector)
}

// stripPDBV1beta1Label removes the requirements on pdbV1beta1Label from a
// selector, unless the selector is the match-none one policy/v1 keeps for
// a v1beta1 empty selector (an Exists of the label alone), so that the
// label never combines with what a client wrote (upstream's
// StripPDBV1beta1Label).
func stripPDBV1beta1Label(sel *metav1.LabelSelector) {
	matchNone := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: pdbV1beta1Label, Operator: metav1.LabelSelectorOpExists}}}
	if sel == nil || equality.Semantic.DeepEqual(sel, matchNone) {
		return
	}
	kept := sel.MatchExpressions[:0]
	for _, e := range sel.MatchExpressions {
		if e.Key != pdbV1beta1Label {
			kept = append(kept, e)
		}
	}
	sel.MatchExpressions = kept
}
