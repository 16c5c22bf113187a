package registry

import (
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The checks of names below accept exactly what
// k8s.io/apimachinery/pkg/util/validation's functions of the same names
// accept, without their regular expressions: a valid value costs no
// allocation, and an invalid one gets upstream's messages from upstream's
// function itself.

// IsDNS1123Label is validation.IsDNS1123Label.
func IsDNS1123Label(v string) []string {
	if dns1123Label(v) {
		return nil
	}
	return validation.IsDNS1123Label(v)
}

// IsDNS1123Subdomain is validation.IsDNS1123Subdomain.
func IsDNS1123Subdomain(v string) []string {
	if dns1123Subdomain(v) {
		return nil
	}
	return validation.IsDNS1123Subdomain(v)
}

// IsQualifiedName is validation.IsQualifiedName.
func IsQualifiedName(v string) []string {
	if qualifiedName(v, false) {
		return nil
	}
	return validation.IsQualifiedName(v)
}

// IsValidLabelValue is validation.IsValidLabelValue.
func IsValidLabelValue(v string) []string {
	if labelValue(v) {
		return nil
	}
	return validation.IsValidLabelValue(v)
}

// IsValidPortName is validation.IsValidPortName.
func IsValidPortName(v string) []string {
	if portName(v) {
		return nil
	}
	return validation.IsValidPortName(v)
}

func lowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func alnum(c byte) bool { return lowerAlnum(c) || c >= 'A' && c <= 'Z' }

// dns1123Label: at most 63 characters of [a-z0-9-], starting and ending
// with [a-z0-9].
func dns1123Label(v string) bool {
	if len(v) == 0 || len(v) > 63 || !lowerAlnum(v[0]) || !lowerAlnum(v[len(v)-1]) {
		return false
	}
	for i := 1; i < len(v)-1; i++ {
		if c := v[i]; !lowerAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// dns1123Subdomain: at most 253 characters, labels of [a-z0-9-] (any
// length) starting and ending with [a-z0-9], separated by dots; caseless
// also takes [A-Z].
func dns1123Subdomain(v string) bool { return subdomain(v, false) }

func subdomain(v string, caseless bool) bool {
	if len(v) == 0 || len(v) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && v[i] != '.' {
			c := v[i]
			if c != '-' && !lowerAlnum(c) && !(caseless && c >= 'A' && c <= 'Z') {
				return false
			}
			continue
		}
		// v[start:i] is a label.
		if i == start || v[start] == '-' || v[i-1] == '-' {
			return false
		}
		start = i + 1
	}
	return true
}

// labelKeyName: at most 63 characters of [-A-Za-z0-9_.], starting and
// ending with [A-Za-z0-9].
func labelKeyName(v string) bool {
	if len(v) == 0 || len(v) > 63 || !alnum(v[0]) || !alnum(v[len(v)-1]) {
		return false
	}
	for i := 1; i < len(v)-1; i++ {
		if c := v[i]; !alnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// qualifiedName: an optional DNS subdomain prefix and '/', then a label
// key name. caseless takes [A-Z] in the prefix too (an annotation's key,
// which upstream lowercases first).
func qualifiedName(v string, caseless bool) bool {
	prefix, name, found := strings.Cut(v, "/")
	if !found {
		return labelKeyName(v)
	}
	return subdomain(prefix, caseless) && labelKeyName(name)
}

// labelValue: empty, or a label key name.
func labelValue(v string) bool { return v == "" || labelKeyName(v) }

// portName: at most 15 characters of [-a-z0-9] with a letter, no "--",
// not starting or ending with '-'.
func portName(v string) bool {
	if len(v) == 0 || len(v) > 15 || v[0] == '-' || v[len(v)-1] == '-' {
		return false
	}
	letter := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9':
		case c == '-':
			if v[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return letter
}

// metaValid reports whether upstream's ValidateObjectMetaAccessor finds
// nothing wrong with m for a resource with this name check (nil: DNS
// subdomain), without building field paths or running regular
// expressions. False may also mean that it could not tell.
func metaValid(m metav1.Object, namespaced bool, nameFn func(string, bool) []string) bool {
	nameOK := func(v string, prefix bool) bool {
		if nameFn != nil {
			return len(nameFn(v, prefix)) == 0
		}
		if prefix && len(v) > 1 && v[len(v)-1] == '-' {
			v = v[:len(v)-2] + "a" // upstream's maskTrailingDash
		}
		return dns1123Subdomain(v)
	}
	if g := m.GetGenerateName(); g != "" && !nameOK(g, true) {
		return false
	}
	if n := m.GetName(); n == "" || !nameOK(n, false) {
		return false
	}
	if ns := m.GetNamespace(); namespaced && !dns1123Label(ns) || !namespaced && ns != "" {
		return false
	}
	if m.GetGeneration() < 0 {
		return false
	}
	for k, v := range m.GetLabels() {
		if !qualifiedName(k, false) || !labelValue(v) {
			return false
		}
	}
	size := 0
	for k, v := range m.GetAnnotations() {
		if !qualifiedName(k, true) {
			return false
		}
		size += len(k) + len(v)
	}
	if size > apivalidation.TotalAnnotationSizeLimitB {
		return false
	}
	return ownersValid(m.GetOwnerReferences()) && finalizersValid(m.GetFinalizers()) &&
		managedFieldsValid(m.GetManagedFields())
}

// ownersValid is upstream's ValidateOwnerReferences finding nothing.
func ownersValid(refs []metav1.OwnerReference) bool {
	controllers := 0
	for _, ref := range refs {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if ref.APIVersion == "" || err != nil || gv.Version == "" || ref.Kind == "" || ref.Name == "" || ref.UID == "" {
			return false
		}
		if _, banned := apivalidation.BannedOwners[gv.WithKind(ref.Kind)]; banned {
			return false
		}
		if ref.Controller != nil && *ref.Controller {
			if controllers++; controllers > 1 {
				return false
			}
		}
	}
	return true
}

// finalizersValid is upstream's ValidateFinalizers finding nothing.
func finalizersValid(finalizers []string) bool {
	orphan, foreground := false, false
	for _, f := range finalizers {
		if !qualifiedName(f, false) {
			return false
		}
		orphan = orphan || f == metav1.FinalizerOrphanDependents
		foreground = foreground || f == metav1.FinalizerDeleteDependents
	}
	return !orphan || !foreground
}

// managedFieldsValid is upstream's ValidateManagedFields finding nothing.
func managedFieldsValid(entries []metav1.ManagedFieldsEntry) bool {
	for i := range entries {
		e := &entries[i]
		if e.Operation != metav1.ManagedFieldsOperationApply && e.Operation != metav1.ManagedFieldsOperationUpdate ||
			e.FieldsType != "" && e.FieldsType != "FieldsV1" ||
			len(e.Subresource) > metav1validation.MaxSubresourceNameLength ||
			len(metav1validation.ValidateFieldManager(e.Manager, nil)) != 0 {
			return false
		}
	}
	return true
}
