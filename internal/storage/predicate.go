package storage

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// AttrFunc returns the label and field sets a selector is matched against.
type AttrFunc func(obj runtime.Object) (labels.Set, fields.Set, error)

// DefaultClusterScopedAttr exposes metadata.name and the labels.
func DefaultClusterScopedAttr(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(m.GetLabels()), fields.Set{"metadata.name": m.GetName()}, nil
}

// DefaultNamespaceScopedAttr exposes metadata.name, metadata.namespace and the labels.
func DefaultNamespaceScopedAttr(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(m.GetLabels()), fields.Set{"metadata.name": m.GetName(), "metadata.namespace": m.GetNamespace()}, nil
}

// Everything matches every object.
var Everything = SelectionPredicate{Label: labels.Everything(), Field: fields.Everything()}

// SelectionPredicate selects objects by labels and fields and carries the
// paging options of a list.
type SelectionPredicate struct {
	Label               labels.Selector
	Field               fields.Selector
	GetAttrs            AttrFunc
	IndexLabels         []string
	IndexFields         []string
	Limit               int64
	Continue            string
	AllowWatchBookmarks bool
}

// Matches reports whether obj satisfies the selectors.
func (s *SelectionPredicate) Matches(obj runtime.Object) (bool, error) {
	if s.Empty() {
		return true, nil
	}
	attrs := s.GetAttrs
	if attrs == nil {
		attrs = DefaultNamespaceScopedAttr
	}
	l, f, err := attrs(obj)
	if err != nil {
		return false, err
	}
	return s.MatchesObjectAttributes(l, f), nil
}

// MatchesObjectAttributes matches precomputed attributes.
func (s *SelectionPredicate) MatchesObjectAttributes(l labels.Set, f fields.Set) bool {
	if s.Empty() {
		return true
	}
	if s.Label != nil && !s.Label.Matches(l) {
		return false
	}
	return s.Field == nil || s.Field.Matches(f)
}

// MatchesSingle returns the name when the field selector requires exactly one
// metadata.name and no continue token is set.
func (s *SelectionPredicate) MatchesSingle() (string, bool) {
	if s.Continue != "" || s.Field == nil {
		return "", false
	}
	return s.Field.RequiresExactMatch("metadata.name")
}

// MatchesSingleNamespace likewise for metadata.namespace.
func (s *SelectionPredicate) MatchesSingleNamespace() (string, bool) {
	if s.Continue != "" || s.Field == nil {
		return "", false
	}
	return s.Field.RequiresExactMatch("metadata.namespace")
}

// Empty reports a predicate with no label and no field requirement.
func (s *SelectionPredicate) Empty() bool {
	return (s.Label == nil || s.Label.Empty()) && (s.Field == nil || s.Field.Empty())
}

// LabelIndex names the index of a label.
func LabelIndex(label string) string { return "l:" + label }

// FieldIndex names the index of a field.
func FieldIndex(field string) string { return "f:" + field }

// InitialEventsAnnotationKey marks the bookmark that ends a watch's initial events.
const InitialEventsAnnotationKey = "k8s.io/initial-events-end"

// AnnotateInitialEventsEndBookmark marks obj as the end-of-initial-events bookmark.
func AnnotateInitialEventsEndBookmark(obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	a := m.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[InitialEventsAnnotationKey] = "true"
	m.SetAnnotations(a)
	return nil
}
