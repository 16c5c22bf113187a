package apiserver

import (
	"reflect"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// The walk of a typed object on its Go values. createWalker.walk goes
// through structured-merge-diff's value.Value view of the object, which
// wraps every field and item in an allocated reflection value, turns an
// IntOrString into JSON and back and looks each struct's fields up by
// name. rwalk makes the same steps on the reflect.Values themselves, with
// value's own field tables (value.TypeReflectEntryOf: JSON names, order,
// omitempty, inlined structs), and reads a value's kind as value's
// reflection does: converted types (json.Marshaler) by what they convert
// to, known for metav1.Time, resource.Quantity and intstr.IntOrString,
// and any other one wrapped as value does it and walked by walk. Where a
// step needs a value.Value (a list item's keys, a set's item, a leaf of
// the live object to compare with) it is made as value makes it.

// rkind is the kind value's reflection gives a Go value.
type rkind uint8

const (
	rNull rkind = iota
	rStruct
	rMap
	rList
	rInt
	rFloat
	rString
	rBool
	// rWrap: a converted type walked as a value.Value.
	rWrap
	// rNone: what value's reflection would fail or panic on.
	rNone
)

var (
	rTimeType        = reflect.TypeFor[metav1.Time]()
	rQuantityType    = reflect.TypeFor[resource.Quantity]()
	rIntOrStringType = reflect.TypeFor[intstr.IntOrString]()
)

// rclassifyC is value's valueReflect.reuse: the value's kind, and the
// value itself with one pointer or interface taken off; conv is whether
// rv's type converts itself (value's CanConvertToUnstructured).
func rclassifyC(rv reflect.Value, conv bool) (reflect.Value, rkind) {
	t := rv.Type()
	if conv {
		if t.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return rv, rNull
			}
			rv, t = rv.Elem(), t.Elem()
		}
		switch t {
		case rTimeType:
			if timeOf(rv).IsZero() {
				return rv, rNull
			}
			return rv, rString
		case rQuantityType:
			return rv, rString
		case rIntOrStringType:
			// IntOrString's first field is its Type.
			switch intstr.Type(rv.Field(0).Int()) {
			case intstr.Int:
				return rv, rInt
			case intstr.String:
				return rv, rString
			}
			return rv, rNone
		}
		return rv, rWrap
	}
	if k := rv.Kind(); k == reflect.Pointer || k == reflect.Interface {
		if rv.IsNil() {
			return rv, rNull
		}
		if k == reflect.Interface {
			// Whatever the interface holds: left to value.
			return rv, rNone
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Map:
		if rv.IsNil() {
			return rv, rNull
		}
		return rv, rMap
	case reflect.Struct:
		return rv, rStruct
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Int16, reflect.Int8,
		reflect.Uint, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		return rv, rInt
	case reflect.Float64, reflect.Float32:
		return rv, rFloat
	case reflect.String:
		return rv, rString
	case reflect.Bool:
		return rv, rBool
	case reflect.Slice:
		if rv.IsNil() {
			return rv, rNull
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return rv, rString
		}
		return rv, rList
	}
	return rv, rNone
}

// timeOf is a metav1.Time's time (without a copy to the heap where it
// can be read in place).
func timeOf(rv reflect.Value) *metav1.Time {
	if rv.CanAddr() {
		return rv.Addr().Interface().(*metav1.Time)
	}
	t := rv.Interface().(metav1.Time)
	return &t
}

// rvalue is the value.Value value's reflection makes of rv (a field, an
// item or a pointer): false where rv cannot be wrapped as it would be
// (not addressable, or an error converting it).
func rvalue(rv reflect.Value) (value.Value, bool) {
	var v value.Value
	var err error
	switch {
	case rv.Kind() == reflect.Pointer:
		if rv.IsNil() {
			return value.NewValueInterface(nil), true
		}
		v, err = value.NewValueReflect(rv.Interface())
	case rv.Kind() == reflect.Interface:
		return nil, false
	case rv.CanAddr():
		v, err = value.NewValueReflect(rv.Addr().Interface())
	default:
		return nil, false
	}
	return v, err == nil
}

// deduceKind is deduceAtom on a kind.
func deduceKind(atom schema.Atom, k rkind) schema.Atom {
	switch k {
	case rInt, rFloat, rString, rBool:
		if atom.Scalar != nil {
			return schema.Atom{Scalar: atom.Scalar}
		}
	case rList:
		if atom.List != nil {
			return schema.Atom{List: atom.List}
		}
	case rStruct, rMap:
		if atom.Map != nil {
			return schema.Atom{Map: atom.Map}
		}
	}
	return atom
}

// scalarKindOK is scalarOK on a kind.
func scalarKindOK(t *schema.Scalar, k rkind) bool {
	switch k {
	case rNull:
		return true
	case rInt, rFloat:
		return *t == schema.Numeric || *t == schema.Untyped
	case rString:
		return *t == schema.String || *t == schema.Untyped
	case rBool:
		return *t == schema.Boolean || *t == schema.Untyped
	}
	return false
}

// rwalkC is walk on a Go value; ra is tr resolved (nil: not yet), conv
// as rclassifyC's.
func (w *createWalker) rwalkC(tr schema.TypeRef, ra *resolvedAtom, lhs value.Value, orig reflect.Value, conv bool) bool {
	if lhs == nil {
		if ok, done := w.fastEnter(tr, orig); done {
			return ok
		}
	}
	rv, k := rclassifyC(orig, conv)
	switch k {
	case rNone:
		return false
	case rWrap:
		v, ok := rvalue(orig)
		return ok && w.walk(tr, lhs, v)
	}
	a, ok := w.resolve(tr, ra)
	if !ok {
		return false
	}
	arhs := deduceKind(a, k)
	if lhs != nil {
		alhs := deduceAtom(a, lhs)
		if !atomsEqual(&alhs, &arhs) {
			return false
		}
	}
	leaf := false
	switch {
	case arhs.Map != nil:
		leaf, ok = w.rdoMap(arhs.Map, lhs, orig, rv, k)
	case arhs.Scalar != nil:
		if !scalarKindOK(arhs.Scalar, k) {
			return false
		}
		ok = w.rdoLeaf(lhs, orig, k)
		leaf = true
	case arhs.List != nil:
		leaf, ok = w.rdoList(arhs.List, lhs, orig, rv, k)
	default:
		return false
	}
	if !ok {
		return false
	}
	if !leaf && lhs == nil {
		w.insert()
	}
	return true
}

// rdoLeaf is doLeaf; false where the comparison with the live object's
// value cannot be made.
func (w *createWalker) rdoLeaf(lhs value.Value, orig reflect.Value, k rkind) bool {
	if lhs == nil {
		w.insert()
		return true
	}
	if lhs.IsNull() && k == rNull {
		return true
	}
	if k == rString && orig.Kind() == reflect.String {
		// EqualsUsing of a string: equal to the same string only.
		if !lhs.IsString() || lhs.AsString() != orig.String() {
			w.insert()
		}
		return true
	}
	v, ok := rvalue(orig)
	if !ok {
		return false
	}
	if !value.EqualsUsing(w.alloc, v, lhs) {
		w.insert()
	}
	return true
}

// rempty is whether a map or struct has no entries as value sees them.
func (w *createWalker) rempty(t *schema.Map, rv reflect.Value, k rkind) bool {
	if k == rMap {
		return rv.Len() == 0
	}
	return w.plans.of(w, rv.Type(), t).empty(rv)
}

// reach calls fn on each entry of a map or struct as value iterates them,
// until fn returns false. name is a struct field's name in value's field
// table (nil for a map's key).
func reach(rv reflect.Value, k rkind, fn func(key string, name *string, v reflect.Value) bool) bool {
	if k == rMap {
		iter := rv.MapRange()
		for iter.Next() {
			if !fn(iter.Key().String(), nil, iter.Value()) {
				return false
			}
		}
		return true
	}
	for _, f := range value.TypeReflectEntryOf(rv.Type()).OrderedFields() {
		fv := f.GetFrom(rv)
		if f.CanOmit(fv) {
			continue
		}
		if !fn(f.JsonName, &f.JsonName, fv) {
			return false
		}
	}
	return true
}

func (w *createWalker) rdoMap(t *schema.Map, lhs value.Value, orig, rv reflect.Value, k rkind) (leaf, ok bool) {
	l, ok := w.mapOf(lhs)
	if !ok {
		return false, false
	}
	if l != nil {
		defer w.alloc.Free(l)
	}
	if k != rNull && k != rStruct && k != rMap {
		return false, false
	}
	rnil := k == rNull
	lempty := l == nil || l.Empty()
	rempty := !rnil && lempty && w.rempty(t, rv, k)
	if t.ElementRelationship == schema.Atomic || (lempty && (rnil || rempty)) {
		// Two empty maps are equal (EqualsUsing): not a member.
		if (l == nil || !rempty) && !w.rdoLeaf(lhs, orig, k) {
			return false, false
		}
		return true, rnil || w.rvalidateMap(t, rv, k)
	}
	if rnil {
		return false, false
	}
	if k == rStruct {
		if ok, done := w.rdoStruct(t, l, rv); done {
			return false, ok
		}
	}
	matched := 0
	ok = reach(rv, k, func(key string, name *string, val reflect.Value) bool {
		tr, declared := fieldType(t, key)
		if !declared {
			return false
		}
		var lv value.Value
		if l != nil {
			if v, found := l.Get(key); found {
				lv = v
				matched++
			}
		}
		w.push(pathStep{key: key, name: name, lhsNil: lv == nil})
		ok := w.rwalk(tr, lv, val)
		w.pop()
		return ok
	})
	if ok && l != nil && matched != l.Length() {
		return false, false
	}
	return false, ok
}

func (w *createWalker) rdoList(t *schema.List, lhs value.Value, orig, rv reflect.Value, k rkind) (leaf, ok bool) {
	l, ok := w.listOf(lhs)
	if !ok || (l != nil && l.Length() > 0) {
		return false, false
	}
	if l != nil {
		defer w.alloc.Free(l)
	}
	if k != rNull && k != rList {
		return false, false
	}
	n := 0
	if k == rList {
		n = rv.Len()
	}
	if n == 0 || t.ElementRelationship == schema.Atomic {
		if !w.rdoLeaf(lhs, orig, k) {
			return false, false
		}
		return true, k == rNull || w.rvalidateItems(t, rv)
	}
	if t.ElementRelationship != schema.Associative {
		return false, false
	}
	if l == nil {
		if ok, done := w.fastItems(t, rv); done {
			return false, ok
		}
	}
	seen := w.seenItems(n)
	defer seen.release()
	conv, ra := value.TypeReflectEntryOf(rv.Type().Elem()).CanConvertToUnstructured(), w.resolved(t.ElementType)
	for i := range n {
		child := rv.Index(i)
		pe, ok := w.ritemElement(t, child)
		if !ok || !seen.insert(pe) {
			return false, false
		}
		w.push(pathStep{item: pe, isItem: true, lhsNil: true})
		ok = w.rwalkC(t.ElementType, &ra, nil, child, conv)
		w.pop()
		if !ok {
			return false, false
		}
	}
	return false, true
}

// ritemElement is itemElement on a Go value.
func (w *createWalker) ritemElement(t *schema.List, child reflect.Value) (fieldpath.PathElement, bool) {
	if t.ElementRelationship != schema.Associative {
		return fieldpath.PathElement{}, false
	}
	rv, k := rclassify(child)
	if k == rNone {
		return fieldpath.PathElement{}, false
	}
	if k == rWrap {
		v, ok := rvalue(child)
		if !ok {
			return fieldpath.PathElement{}, false
		}
		return w.itemElement(t, v)
	}
	if len(t.Keys) == 0 {
		if k == rStruct || k == rMap || k == rList || k == rNull {
			return fieldpath.PathElement{}, false
		}
		v, ok := rvalue(child)
		if !ok {
			return fieldpath.PathElement{}, false
		}
		return fieldpath.PathElement{Value: &v}, true
	}
	if k != rStruct {
		// A map item (of a Go map type): left to value.
		if k != rMap {
			return fieldpath.PathElement{}, false
		}
		v, ok := rvalue(child)
		if !ok {
			return fieldpath.PathElement{}, false
		}
		return w.itemElement(t, v)
	}
	fields := value.TypeReflectEntryOf(rv.Type()).Fields()
	keys := value.FieldList{}
	for _, name := range t.Keys {
		if f, ok := fields[name]; ok {
			if fv := f.GetFrom(rv); !f.CanOmit(fv) {
				v, ok := rkeyValue(f, fv)
				if !ok {
					return fieldpath.PathElement{}, false
				}
				keys = append(keys, value.Field{Name: name, Value: v})
				continue
			}
		}
		def, ok := w.keyDefault(t.ElementType, name)
		if !ok {
			return fieldpath.PathElement{}, false
		}
		if def != nil {
			keys = append(keys, *def)
		}
	}
	return keyElement(keys)
}
