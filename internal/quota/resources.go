// Package quota is ResourceQuota: the usage of objects in a namespace as
// kube-apiserver's quota evaluators measure it (pods, services, claims,
// object counts), the admission check that charges a create or an update
// to the quotas of its namespace before it is written, and the controller
// that keeps each quota's status current, as kube-controller-manager's
// resourcequota controller does.
package quota

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The arithmetic of resource lists, as upstream's quota/v1 helpers.

// add returns a+b: every name of either, summed.
func add(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range a {
		q := v.DeepCopy()
		if o, ok := b[k]; ok {
			q.Add(o)
		}
		out[k] = q
	}
	for k, v := range b {
		if _, ok := out[k]; !ok {
			out[k] = v.DeepCopy()
		}
	}
	return out
}

// subtractNonNegative returns a-b, no value below zero, the names of a.
func subtractNonNegative(a, b corev1.ResourceList) corev1.ResourceList {
	zero := resource.MustParse("0")
	out := corev1.ResourceList{}
	for k, v := range a {
		q := v.DeepCopy()
		if o, ok := b[k]; ok {
			q.Sub(o)
		}
		if q.Cmp(zero) < 0 {
			q = zero.DeepCopy()
		}
		out[k] = q
	}
	return out
}

// mask returns the values of l whose name is in names.
func mask(l corev1.ResourceList, names []corev1.ResourceName) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, n := range names {
		if v, ok := l[n]; ok {
			out[n] = v.DeepCopy()
		}
	}
	return out
}

// names returns the names of l.
func names(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	return out
}

// equal reports two lists with the same names and equal values.
func equal(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		o, ok := b[k]
		if !ok || v.Cmp(o) != 0 {
			return false
		}
	}
	return true
}

// lessOrEqual reports whether every value of a that b limits is at most
// b's, and the names that exceed.
func lessOrEqual(a, b corev1.ResourceList) (bool, []corev1.ResourceName) {
	var exceeded []corev1.ResourceName
	for k, v := range a {
		if lim, ok := b[k]; ok && v.Cmp(lim) > 0 {
			exceeded = append(exceeded, k)
		}
	}
	return len(exceeded) == 0, exceeded
}

// removeZeros drops the zero values.
func removeZeros(l corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range l {
		if !v.IsZero() {
			out[k] = v
		}
	}
	return out
}

// negative returns the names with a negative value.
func negative(l corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for k, v := range l {
		if v.Sign() < 0 {
			out = append(out, k)
		}
	}
	return out
}

// intersection returns the names of a that are in b.
func intersection(a, b []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// prettyPrint is upstream's: name=value by name, comma separated.
func prettyPrint(l corev1.ResourceList) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := l[corev1.ResourceName(k)]
		parts = append(parts, k+"="+v.String())
	}
	return strings.Join(parts, ",")
}

// prettyPrintNames is upstream's prettyPrintResourceNames.
func prettyPrintNames(ns []corev1.ResourceName) string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, string(n))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func one() resource.Quantity { return *resource.NewQuantity(1, resource.DecimalSI) }
