package crdschema

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	apimachineryvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var standardFinalizers = sets.NewString(
	metav1.FinalizerOrphanDependents,
	metav1.FinalizerDeleteDependents,
	string(corev1.FinalizerKubernetes),
)

// Warnings is upstream's customResourceStrategy WarningsOnCreate (old ==
// nil) and WarningsOnUpdate: a warning for each finalizer obj adds that is
// not a qualified name or not domain-qualified. Updates of /status have no
// warnings upstream.
func Warnings(obj, old map[string]any) []string {
	added := sets.NewString((&unstructured.Unstructured{Object: obj}).GetFinalizers()...)
	if old != nil {
		added = added.Difference(sets.NewString((&unstructured.Unstructured{Object: old}).GetFinalizers()...))
	}
	fldPath := field.NewPath("metadata", "finalizers")
	var warnings []string
	for _, finalizer := range added.List() {
		warnings = append(warnings, finalizerWarnings(finalizer, fldPath)...)
	}
	return warnings
}

// finalizerWarnings is upstream's validateKubeFinalizerName.
func finalizerWarnings(value string, fldPath *field.Path) []string {
	var warnings []string
	for _, msg := range apimachineryvalidation.IsQualifiedName(value) {
		warnings = append(warnings, fmt.Sprintf("%s: %q: %s", fldPath.String(), value, msg))
	}
	if len(strings.Split(value, "/")) == 1 && !standardFinalizers.Has(value) {
		if strings.Contains(value, ".") {
			warnings = append(warnings, fmt.Sprintf("%s: %q: prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers", fldPath.String(), value))
		} else {
			warnings = append(warnings, fmt.Sprintf("%s: %q: prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers", fldPath.String(), value))
		}
	}
	return warnings
}
