package apiserver

import (
	"reflect"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// The walk of a struct follows a plan made once per Go type and schema
// map: value's field table in its order (by JSON name), each field's
// type in the schema, and whether its Go type converts itself, so that
// a create looks none of them up again.

// structPlans are the plans a createTracker made.
type structPlans struct {
	m sync.Map // planKey → *structPlan
	n atomic.Int64
}

// structPlansMax bounds the plans kept; past it, plans are made for the
// walk and dropped.
const structPlansMax = 4096

type planKey struct {
	t reflect.Type
	m *schema.Map
}

type structPlan struct {
	fields []fieldPlan
}

// fieldPlan is a struct field: its entry in value's table and how to
// read it (acc), its type in the schema map (declared false: not in it),
// whether its Go type converts itself (rclassifyC's conv), its node of
// the compiled walk (nil: none).
type fieldPlan struct {
	acc      ffield
	f        *value.FieldCacheEntry
	tr       schema.TypeRef
	declared bool
	conv     bool
	node     *fnode
	// atom is tr resolved.
	atom resolvedAtom
}

// resolvedAtom is a type resolved in the schema.
type resolvedAtom struct {
	a  schema.Atom
	ok bool
}

// resolved is tr resolved.
func (w *createWalker) resolved(tr schema.TypeRef) resolvedAtom {
	a, ok := w.schema.Resolve(tr)
	return resolvedAtom{a, ok}
}

// resolve is tr resolved, from ra where it is (not nil).
func (w *createWalker) resolve(tr schema.TypeRef, ra *resolvedAtom) (schema.Atom, bool) {
	if ra != nil {
		return ra.a, ra.ok
	}
	return w.schema.Resolve(tr)
}

// empty is rempty of a struct.
func (p *structPlan) empty(rv reflect.Value) bool {
	for i := range p.fields {
		if _, omit := p.fields[i].acc.get(rv); !omit {
			return false
		}
	}
	return true
}

func (p *structPlans) of(w *createWalker, t reflect.Type, m *schema.Map) *structPlan {
	k := planKey{t, m}
	if v, ok := p.m.Load(k); ok {
		return v.(*structPlan)
	}
	fields := value.TypeReflectEntryOf(t).OrderedFields()
	plan := &structPlan{fields: make([]fieldPlan, len(fields))}
	fa := newFieldAccess(t)
	for i, f := range fields {
		tr, declared := fieldType(m, f.JsonName)
		acc, ft := fa.of(f)
		plan.fields[i] = fieldPlan{acc: acc, f: f, tr: tr, declared: declared, conv: acc.conv}
		if declared {
			plan.fields[i].atom.a, plan.fields[i].atom.ok = w.schema.Resolve(tr)
			if w.fast != nil {
				plan.fields[i].node = w.fast.of(w.schema, ft, tr)
			}
		}
	}
	if p.n.Load() < structPlansMax {
		if _, loaded := p.m.LoadOrStore(k, plan); !loaded {
			p.n.Add(1)
		}
	}
	return plan
}

// rwalk is walk on a Go value.
func (w *createWalker) rwalk(tr schema.TypeRef, lhs value.Value, orig reflect.Value) bool {
	return w.rwalkC(tr, nil, lhs, orig, value.TypeReflectEntryOf(orig.Type()).CanConvertToUnstructured())
}

// rclassify is rclassifyC of a value of any type.
func rclassify(rv reflect.Value) (reflect.Value, rkind) {
	return rclassifyC(rv, value.TypeReflectEntryOf(rv.Type()).CanConvertToUnstructured())
}

// rdoStruct is rdoMap's walk of a struct's fields with the plan of its
// type (done false: no plan, left to rdoMap).
func (w *createWalker) rdoStruct(t *schema.Map, l value.Map, rv reflect.Value) (ok, done bool) {
	if w.plans == nil {
		return false, false
	}
	plan := w.plans.of(w, rv.Type(), t)
	matched := 0
	for i := range plan.fields {
		fp := &plan.fields[i]
		fv, omit := fp.acc.get(rv)
		if omit {
			continue
		}
		if !fp.declared {
			return false, true
		}
		var lv value.Value
		if l != nil {
			if v, found := l.GetUsing(w.alloc, fp.f.JsonName); found {
				lv = v
				matched++
			}
		}
		w.push(pathStep{key: fp.f.JsonName, name: &fp.f.JsonName, lhsNil: lv == nil})
		ok, done := false, false
		if lv == nil {
			ok, done = w.fastNode(fp.node, fv)
		}
		if !done {
			ok = w.rwalkC(fp.tr, &fp.atom, lv, fv, fp.conv)
		}
		w.pop()
		if lv != nil {
			w.alloc.Free(lv)
		}
		if !ok {
			return false, true
		}
	}
	if l != nil && matched != l.Length() {
		return false, true
	}
	return true, true
}

// rkeyValue is rvalue of a list key's field, a string or an integer
// made as a plain value (which compares and serializes as the
// reflection's does) without value's reflection.
func rkeyValue(f *value.FieldCacheEntry, fv reflect.Value) (value.Value, bool) {
	if !f.TypeEntry.CanConvertToUnstructured() {
		switch fv.Kind() {
		case reflect.String:
			return value.NewValueInterface(fv.String()), true
		case reflect.Int, reflect.Int32, reflect.Int64:
			return value.NewValueInterface(fv.Int()), true
		}
	}
	return rvalue(fv)
}

// itemsSeen are the path elements of a list's items so far, to find a
// duplicate: a short list's in the walk's memory, a long list's in a
// set.
type itemsSeen struct {
	w    *createWalker
	base int
	set  *fieldpath.PathElementSet
}

// seenItemsMax is the longest list whose items are compared one by one.
const seenItemsMax = 16

func (w *createWalker) seenItems(n int) itemsSeen {
	if n > seenItemsMax {
		set := fieldpath.MakePathElementSet(n)
		return itemsSeen{set: &set}
	}
	return itemsSeen{w: w, base: len(w.st.items)}
}

// insert adds pe; false if it is there already.
func (s itemsSeen) insert(pe fieldpath.PathElement) bool {
	if s.set != nil {
		if s.set.Has(pe) {
			return false
		}
		s.set.Insert(pe)
		return true
	}
	for _, o := range s.w.st.items[s.base:] {
		if o.Compare(pe) == 0 {
			return false
		}
	}
	s.w.st.items = append(s.w.st.items, pe)
	return true
}

func (s itemsSeen) release() {
	if s.set == nil {
		clear(s.w.st.items[s.base:])
		s.w.st.items = s.w.st.items[:s.base]
	}
}

// rvalidateStruct is rvalidateMap of a struct with the plan of its type.
func (w *createWalker) rvalidateStruct(t *schema.Map, rv reflect.Value) bool {
	plan := w.plans.of(w, rv.Type(), t)
	for i := range plan.fields {
		fp := &plan.fields[i]
		fv, omit := fp.acc.get(rv)
		if omit {
			continue
		}
		if !fp.declared || !w.rvalidate(fp.tr, fv) {
			return false
		}
	}
	return true
}

// atomsEqual is a.Equals(b), without comparing a schema type with
// itself field by field.
func atomsEqual(a, b *schema.Atom) bool {
	if a.Scalar == b.Scalar && a.List == b.List && a.Map == b.Map {
		return true
	}
	return a.Equals(b)
}

// rvalidate is validate on a Go value.
func (w *createWalker) rvalidate(tr schema.TypeRef, orig reflect.Value) bool {
	rv, k := rclassify(orig)
	switch k {
	case rNone:
		return false
	case rWrap:
		v, ok := rvalue(orig)
		return ok && w.validate(tr, v)
	}
	a, ok := w.schema.Resolve(tr)
	if !ok {
		return false
	}
	a = deduceKind(a, k)
	switch {
	case a.Map != nil:
		if k == rNull {
			return true
		}
		return (k == rStruct || k == rMap) && w.rvalidateMap(a.Map, rv, k)
	case a.Scalar != nil:
		return scalarKindOK(a.Scalar, k)
	case a.List != nil:
		if k == rNull {
			return true
		}
		return k == rList && w.rvalidateItems(a.List, rv)
	}
	return false
}

func (w *createWalker) rvalidateMap(t *schema.Map, rv reflect.Value, k rkind) bool {
	if k == rStruct && w.plans != nil {
		return w.rvalidateStruct(t, rv)
	}
	return reach(rv, k, func(key string, _ *string, val reflect.Value) bool {
		tr, declared := fieldType(t, key)
		return declared && w.rvalidate(tr, val)
	})
}

func (w *createWalker) rvalidateItems(t *schema.List, rv reflect.Value) bool {
	for i := range rv.Len() {
		child := rv.Index(i)
		if t.ElementRelationship == schema.Associative {
			if _, ok := w.ritemElement(t, child); !ok {
				return false
			}
		}
		if !w.rvalidate(t.ElementType, child) {
			return false
		}
	}
	return true
}
