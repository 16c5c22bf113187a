package cacher

import (
	"slices"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/regis-dev/regis/internal/storage"
)

// attrs are an element's selectable fields, kept compactly: the objects of
// a resource all have the same field names, so an element holds only the
// values (strings shared with the object), in the order of a names slice
// shared by every element. A fields.Set map costs several hundred bytes
// per object; this costs 16 per field.
type attrs struct {
	names  *[]string // sorted; shared
	values []string
}

var _ fields.Fields = attrs{}

// Has implements fields.Fields.
func (a attrs) Has(field string) bool {
	_, ok := a.index(field)
	return ok
}

// Get implements fields.Fields.
func (a attrs) Get(field string) string {
	if i, ok := a.index(field); ok {
		return a.values[i]
	}
	return ""
}

func (a attrs) index(field string) (int, bool) {
	if a.names == nil {
		return 0, false
	}
	names := *a.names
	if len(names) <= 8 {
		for i, n := range names {
			if n == field {
				return i, true
			}
		}
		return 0, false
	}
	return slices.BinarySearch(names, field)
}

// fieldNames hands out the shared names slices. It does no locking: only
// the reflector goroutine uses it.
type fieldNames struct {
	last *[]string
}

// compact turns a field set into attrs, sharing the names of the last set
// when they are the same.
func (fn *fieldNames) compact(set fields.Set) attrs {
	if len(set) == 0 {
		return attrs{}
	}
	names := fn.last
	if names == nil || len(*names) != len(set) || !hasAll(set, *names) {
		ns := make([]string, 0, len(set))
		for k := range set {
			ns = append(ns, k)
		}
		slices.Sort(ns)
		names = &ns
		fn.last = names
	}
	values := make([]string, len(*names))
	for i, n := range *names {
		values[i] = set[n]
	}
	return attrs{names: names, values: values}
}

func hasAll(set fields.Set, names []string) bool {
	for _, n := range names {
		if _, ok := set[n]; !ok {
			return false
		}
	}
	return true
}

// matches is pred.MatchesObjectAttributes over compact attrs.
func matches(pred *storage.SelectionPredicate, l labels.Set, f attrs) bool {
	if pred.Empty() {
		return true
	}
	if pred.Label != nil && !pred.Label.Matches(l) {
		return false
	}
	return pred.Field == nil || pred.Field.Matches(f)
}
