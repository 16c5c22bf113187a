package apiserver

import (
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// createWalker computes in one walk of a new object what the slow path
// computes in two: structured-merge-diff's validation of the object
// (typed.AsTyped with AllowDuplicates) and the fields its comparison with
// the live object of a create adds or modifies (typed.Compare). It follows
// typed's validatingObjectWalker and compareWalker step by step, but for
// what it does not follow it gives up: any value that would fail
// validation or comparison, an atom deduced differently on the two sides,
// a live list with items, a key of the live object the new one lacks,
// duplicate items of an associative list. Giving up sends the create to
// the slow path, which then does what upstream does, so a give-up can
// never make a difference, only a walk that goes through can.
type createWalker struct {
	schema *schema.Schema
	alloc  value.Allocator
	// st holds what the walk writes (fieldmanager_create_emit.go); path
	// is the steps from the root to the node being walked.
	st   *emitState
	path []pathStep
	// rootExcl and rootStrip are the reset fields and the fields no
	// manager owns (nil: none); rootContent, that the root holds a
	// child; bad, that what is written is not what ToJSON would write.
	rootExcl, rootStrip *fieldpath.Set
	rootContent, bad    bool
	// plans are the plans of structs' walks (nil: none); fast, the
	// compiled walk's nodes (nil: none).
	plans *structPlans
	fast  *fastNodes
}

// deduceAtom is typed's: a type that may be a scalar, a list or a map is
// the one the value is.
func deduceAtom(atom schema.Atom, val value.Value) schema.Atom {
	switch {
	case val == nil:
	case val.IsFloat(), val.IsInt(), val.IsString(), val.IsBool():
		if atom.Scalar != nil {
			return schema.Atom{Scalar: atom.Scalar}
		}
	case val.IsList():
		if atom.List != nil {
			return schema.Atom{List: atom.List}
		}
	case val.IsMap():
		if atom.Map != nil {
			return schema.Atom{Map: atom.Map}
		}
	}
	return atom
}

// scalarOK is typed's validateScalar without errors.
func scalarOK(t *schema.Scalar, v value.Value) bool {
	if v == nil || v.IsNull() {
		return true
	}
	switch *t {
	case schema.Numeric:
		return v.IsFloat() || v.IsInt()
	case schema.String:
		return v.IsString()
	case schema.Boolean:
		return v.IsBool()
	case schema.Untyped:
		return v.IsFloat() || v.IsInt() || v.IsString() || v.IsBool()
	}
	return false
}

// walk is compareWalker.compare of lhs (the live object's value, nil
// where it has none) and rhs, validating rhs. It reports whether it went
// through.
func (w *createWalker) walk(tr schema.TypeRef, lhs, rhs value.Value) bool {
	a, ok := w.schema.Resolve(tr)
	if !ok {
		return false
	}
	arhs := deduceAtom(a, rhs)
	if lhs != nil {
		alhs := deduceAtom(a, lhs)
		if !atomsEqual(&alhs, &arhs) {
			return false
		}
	}
	leaf := false
	switch {
	case arhs.Map != nil:
		leaf, ok = w.doMap(arhs.Map, lhs, rhs)
	case arhs.Scalar != nil:
		if !scalarOK(arhs.Scalar, rhs) {
			return false
		}
		w.doLeaf(lhs, rhs)
		leaf, ok = true, true
	case arhs.List != nil:
		leaf, ok = w.doList(arhs.List, lhs, rhs)
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

// doLeaf is compareWalker.doLeaf: an added or modified leaf is in the set.
func (w *createWalker) doLeaf(lhs, rhs value.Value) {
	if lhs == nil || !value.EqualsUsing(w.alloc, rhs, lhs) {
		w.insert()
	}
}

// listOf is a value as a list: nil for null, false for not a list.
func (w *createWalker) listOf(v value.Value) (value.List, bool) {
	if v == nil || v.IsNull() {
		return nil, true
	}
	if !v.IsList() {
		return nil, false
	}
	return v.AsListUsing(w.alloc), true
}

func (w *createWalker) doList(t *schema.List, lhs, rhs value.Value) (leaf, ok bool) {
	l, ok := w.listOf(lhs)
	if !ok || (l != nil && l.Length() > 0) {
		return false, false
	}
	if l != nil {
		defer w.alloc.Free(l)
	}
	r, ok := w.listOf(rhs)
	if !ok {
		return false, false
	}
	if r == nil || r.Length() == 0 || t.ElementRelationship == schema.Atomic {
		w.doLeaf(lhs, rhs)
		if r != nil {
			defer w.alloc.Free(r)
			return true, w.validateItems(t, r)
		}
		return true, true
	}
	defer w.alloc.Free(r)
	if t.ElementRelationship != schema.Associative {
		return false, false
	}
	seen := fieldpath.MakePathElementSet(r.Length())
	for i := range r.Length() {
		child := r.At(i)
		pe, ok := w.itemElement(t, child)
		if !ok || seen.Has(pe) {
			return false, false
		}
		seen.Insert(pe)
		w.push(pathStep{item: pe, isItem: true, lhsNil: true})
		ok = w.walk(t.ElementType, nil, child)
		w.pop()
		if !ok {
			return false, false
		}
	}
	return false, true
}

// mapOf is a value as a map: nil for null, false for not a map.
func (w *createWalker) mapOf(v value.Value) (value.Map, bool) {
	if v == nil || v.IsNull() {
		return nil, true
	}
	if !v.IsMap() {
		return nil, false
	}
	return v.AsMapUsing(w.alloc), true
}

// fieldType is the type of a map's key, as validation finds it: a
// field's, else the element type, else none (not declared).
func fieldType(t *schema.Map, key string) (schema.TypeRef, bool) {
	if sf, ok := t.FindField(key); ok {
		return sf.Type, true
	}
	if (t.ElementType == schema.TypeRef{}) {
		return schema.TypeRef{}, false
	}
	return t.ElementType, true
}

func (w *createWalker) doMap(t *schema.Map, lhs, rhs value.Value) (leaf, ok bool) {
	l, ok := w.mapOf(lhs)
	if !ok {
		return false, false
	}
	if l != nil {
		defer w.alloc.Free(l)
	}
	r, ok := w.mapOf(rhs)
	if !ok {
		return false, false
	}
	if r != nil {
		defer w.alloc.Free(r)
	}
	if t.ElementRelationship == schema.Atomic || ((l == nil || l.Empty()) && (r == nil || r.Empty())) {
		w.doLeaf(lhs, rhs)
		return true, r == nil || w.validateMap(t, r)
	}
	if r == nil {
		// Every field of the live object removed: not a create's.
		return false, false
	}
	matched := 0
	ok = true
	r.IterateUsing(w.alloc, func(key string, val value.Value) bool {
		tr, declared := fieldType(t, key)
		if !declared {
			ok = false
			return false
		}
		var lv value.Value
		if l != nil {
			if v, found := l.Get(key); found {
				lv = v
				matched++
			}
		}
		w.push(pathStep{key: key, lhsNil: lv == nil})
		ok = w.walk(tr, lv, val)
		w.pop()
		return ok
	})
	if ok && l != nil && matched != l.Length() {
		return false, false
	}
	return false, ok
}

// itemElement is typed's listItemToPathElement: the path element of an
// associative list's item, by its keys (or their defaults) or, without
// keys, by its value; false where typed's is an error.
func (w *createWalker) itemElement(t *schema.List, child value.Value) (fieldpath.PathElement, bool) {
	if t.ElementRelationship != schema.Associative {
		return fieldpath.PathElement{}, false
	}
	if len(t.Keys) == 0 {
		if child.IsMap() || child.IsList() || child.IsNull() {
			return fieldpath.PathElement{}, false
		}
		return fieldpath.PathElement{Value: &child}, true
	}
	if child.IsNull() || !child.IsMap() {
		return fieldpath.PathElement{}, false
	}
	keys := value.FieldList{}
	m := child.AsMapUsing(w.alloc)
	defer w.alloc.Free(m)
	for _, name := range t.Keys {
		if v, ok := m.Get(name); ok {
			keys = append(keys, value.Field{Name: name, Value: v})
			continue
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

// validate is validatingObjectWalker.validate with AllowDuplicates: what
// the walk does not compare (the inside of atomic lists and maps) is
// still validated.
func (w *createWalker) validate(tr schema.TypeRef, v value.Value) bool {
	a, ok := w.schema.Resolve(tr)
	if !ok {
		return false
	}
	a = deduceAtom(a, v)
	switch {
	case a.Map != nil:
		m, ok := w.mapOf(v)
		if !ok || v == nil {
			return false
		}
		if m == nil {
			return true
		}
		defer w.alloc.Free(m)
		return w.validateMap(a.Map, m)
	case a.Scalar != nil:
		return scalarOK(a.Scalar, v)
	case a.List != nil:
		l, ok := w.listOf(v)
		if !ok {
			return false
		}
		if l == nil {
			return true
		}
		defer w.alloc.Free(l)
		return w.validateItems(a.List, l)
	}
	return false
}

func (w *createWalker) validateMap(t *schema.Map, m value.Map) bool {
	ok := true
	m.IterateUsing(w.alloc, func(key string, val value.Value) bool {
		tr, declared := fieldType(t, key)
		ok = declared && w.validate(tr, val)
		return ok
	})
	return ok
}

func (w *createWalker) validateItems(t *schema.List, l value.List) bool {
	for i := range l.Length() {
		child := l.AtUsing(w.alloc, i)
		ok := true
		if t.ElementRelationship == schema.Associative {
			_, ok = w.itemElement(t, child)
		}
		ok = ok && w.validate(t.ElementType, child)
		w.alloc.Free(child)
		if !ok {
			return false
		}
	}
	return true
}

// keyDefault is the default of list key name in an element of type et
// (nil when it has none); false when et is not a map type.
func (w *createWalker) keyDefault(et schema.TypeRef, name string) (*value.Field, bool) {
	atom, ok := w.schema.Resolve(et)
	if !ok || atom.Map == nil {
		return nil, false
	}
	field, _ := atom.Map.FindField(name)
	if field.Default == nil {
		return nil, true
	}
	return &value.Field{Name: name, Value: value.NewValueInterface(field.Default)}, true
}

// keyElement is the path element of a list item of these keys; false
// when there are none.
func keyElement(keys value.FieldList) (fieldpath.PathElement, bool) {
	if len(keys) == 0 {
		return fieldpath.PathElement{}, false
	}
	keys.Sort()
	return fieldpath.PathElement{Key: &keys}, true
}
