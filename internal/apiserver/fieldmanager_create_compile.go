package apiserver

import (
	"reflect"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// The walk of a create where the live object has nothing, compiled once
// per Go type and schema type. Below a node of the object that the live
// object lacks and that no reset or stripped field reaches (most of a
// create), the walk (rwalkC) makes the same steps at every node: each
// node is a member, so a leaf is written "{}" and any other node
// "{".":{}, children}", and what is left to decide is read from the Go
// value: whether a field is omitted, whether a pointer, map or slice is
// nil, a list's length, its items' keys. An fnode holds what rwalkC looks
// up for a type (its kind as rclassifyC gives it, the schema type
// resolved and deduced, whether a value of it passes scalarKindOK or
// opens a map or a list), and a struct's fields their index, omitempty
// rule by Go kind, their name already written as FieldsV1 writes it and
// their own node. fwrite (fieldmanager_create_fast.go) walks them. What
// the compiled walk does not cover (a converted type other than Time,
// Quantity and IntOrString, an interface, a map whose schema has fields,
// an associative list of other items or keys) is an fFallback node, which
// the walk hands to rwalkC.

// fshape is what a node's value is, after one pointer taken off.
type fshape uint8

const (
	// fFallback: walked by rwalkC.
	fFallback fshape = iota
	// fScalar: a string, number or bool (or a Quantity).
	fScalar
	// fBytes: a []byte, null when nil.
	fBytes
	fTime
	fIntOrString
	fStruct
	// fMap: a map with string keys.
	fMap
	fList
)

// flist is what the walk does with a list of items.
type flist uint8

const (
	lAtomic flist = iota
	// lOther: neither atomic nor associative (gives up with items).
	lOther
	// lSet: associative without keys, of strings.
	lSet
	// lKeyed: associative with keys, of structs.
	lKeyed
)

type fnode struct {
	t  reflect.Type
	tr schema.TypeRef
	// conv is value's CanConvertToUnstructured of t.
	conv  bool
	shape fshape
	// ptr: t is a pointer, taken off; nil is null.
	ptr bool
	// ok: a value that is not null is of a kind the schema type takes
	// (IntOrString: an int; strOK: a string).
	ok, strOK bool
	// atomic: a struct's or map's schema map is atomic.
	atomic bool
	fields []ffield
	// elem is a map's values' or a list's items' node (nil: a map with no
	// element type, whose keys are not declared).
	elem *fnode
	list flist
	keys []fkey
	// filled: compiled whole (a type may hold a list of itself, whose
	// node is not yet filled when the list's is).
	filled bool
}

// fomit is an omitempty rule, value's isEmpty by Go kind.
type fomit uint8

const (
	oNever fomit = iota
	oLen
	oBool
	oInt
	oUint
	oFloat
	oNil
	// oGeneric: FieldCacheEntry.CanOmit (omitzero, or a field reached
	// through a pointer).
	oGeneric
)

// ffield is a struct's field: where it is, its omitempty rule, its name
// as written ("f:name":), its node (nil: not declared in the schema).
type ffield struct {
	f *value.FieldCacheEntry
	// index is the field's path through inlined structs (nil: GetFrom).
	index []int
	omit  fomit
	conv  bool
	name  []byte
	node  *fnode
	tr    schema.TypeRef
}

// fkey is a key of a keyed list, in name order: its Go field (nil: none)
// and its default (nil: none).
type fkey struct {
	name  string
	pre   []byte
	field *ffield
	isInt bool
	def   *string
}

// fastNodes are the nodes a createTracker compiled.
type fastNodes struct {
	mu sync.Mutex
	m  sync.Map // fastKey → *fnode
	n  int
}

// fastNodesMax bounds the nodes compiled per resource; past it, the walk
// is rwalkC's.
const fastNodesMax = 8192

// fastKey is a node's key: its Go type and its schema type, a named type
// by name (a name's TypeRefs need not share a pointer), with the element
// relationship the reference overrides.
type fastKey struct {
	t        reflect.Type
	name     string
	atom     schema.Atom
	er       schema.ElementRelationship
	hasER    bool
	nullable bool
}

func keyOf(t reflect.Type, tr schema.TypeRef) fastKey {
	k := fastKey{t: t, nullable: tr.Nullable}
	if tr.ElementRelationship != nil {
		k.er, k.hasER = *tr.ElementRelationship, true
	}
	if tr.NamedType != nil {
		k.name = *tr.NamedType
	} else {
		k.atom = tr.Inlined
	}
	return k
}

// of is the node of t and tr, compiled on first use (nil past the
// bound).
func (c *fastNodes) of(s *schema.Schema, t reflect.Type, tr schema.TypeRef) *fnode {
	k := keyOf(t, tr)
	if v, ok := c.m.Load(k); ok {
		return v.(*fnode)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m.Load(k); ok {
		return v.(*fnode)
	}
	cp := fcompiler{s: s, pub: &c.m, memo: map[fastKey]*fnode{}, max: fastNodesMax - c.n}
	n := cp.node(t, tr)
	if cp.over {
		return nil
	}
	for k, v := range cp.memo {
		c.m.Store(k, v)
	}
	c.n += len(cp.memo)
	return n
}

type fcompiler struct {
	s    *schema.Schema
	pub  *sync.Map
	memo map[fastKey]*fnode
	max  int
	over bool
}

func (cp *fcompiler) node(t reflect.Type, tr schema.TypeRef) *fnode {
	k := keyOf(t, tr)
	if n, ok := cp.memo[k]; ok {
		return n
	}
	if v, ok := cp.pub.Load(k); ok {
		return v.(*fnode)
	}
	n := &fnode{t: t, tr: tr, conv: value.TypeReflectEntryOf(t).CanConvertToUnstructured()}
	cp.memo[k] = n
	if len(cp.memo) > cp.max {
		cp.over = true
		return n
	}
	cp.fill(n)
	n.filled = true
	return n
}

// atomTakes is whether a value of kind k that is not null passes rwalkC's
// checks against a: deduceKind, then scalarKindOK or a map or a list.
func atomTakes(a schema.Atom, k rkind) bool {
	switch k {
	case rInt, rFloat, rString, rBool:
		return a.Scalar != nil && scalarKindOK(a.Scalar, k)
	case rStruct, rMap:
		return a.Map != nil
	case rList:
		return a.List != nil
	}
	return false
}

// fill is rclassifyC on a type.
func (cp *fcompiler) fill(n *fnode) {
	a, ok := cp.s.Resolve(n.tr)
	if !ok || (a.Map == nil && a.List == nil && a.Scalar == nil) {
		return
	}
	t := n.t
	if n.conv {
		if t.Kind() == reflect.Pointer {
			n.ptr, t = true, t.Elem()
		}
		switch t {
		case rTimeType:
			n.shape, n.strOK = fTime, atomTakes(a, rString)
		case rQuantityType:
			n.shape, n.ok = fScalar, atomTakes(a, rString)
		case rIntOrStringType:
			n.shape, n.ok, n.strOK = fIntOrString, atomTakes(a, rInt), atomTakes(a, rString)
		default:
			n.ptr = false
		}
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		return
	case reflect.Pointer:
		n.ptr, t = true, t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Int16, reflect.Int8,
		reflect.Uint, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		n.shape, n.ok = fScalar, atomTakes(a, rInt)
	case reflect.Float64, reflect.Float32:
		n.shape, n.ok = fScalar, atomTakes(a, rFloat)
	case reflect.String:
		n.shape, n.ok = fScalar, atomTakes(a, rString)
	case reflect.Bool:
		n.shape, n.ok = fScalar, atomTakes(a, rBool)
	case reflect.Struct:
		cp.fillStruct(n, t, a)
	case reflect.Map:
		cp.fillMap(n, t, a)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			n.shape, n.ok = fBytes, atomTakes(a, rString)
		} else {
			cp.fillList(n, t, a)
		}
	default:
		n.ptr = false
	}
}

// fieldName is a field's name as FieldsV1 writes it: "f:name":.
func fieldName(name string) []byte {
	b := append([]byte(`"f:`), appendJSONName(nil, name)...)
	return append(b, '"', ':')
}

func (cp *fcompiler) fillStruct(n *fnode, t reflect.Type, a schema.Atom) {
	n.shape = fStruct
	if a.Map == nil {
		return
	}
	n.ok, n.atomic = true, a.Map.ElementRelationship == schema.Atomic
	fa := newFieldAccess(t)
	for _, f := range value.TypeReflectEntryOf(t).OrderedFields() {
		ff, ft := fa.of(f)
		if tr, declared := fieldType(a.Map, f.JsonName); declared {
			ff.tr, ff.node = tr, cp.node(ft, tr)
		}
		n.fields = append(n.fields, ff)
	}
}

// fieldAccess finds how to read the fields of a struct type.
type fieldAccess struct {
	paths map[string]fpath
	zero  reflect.Value
}

func newFieldAccess(t reflect.Type) fieldAccess {
	fa := fieldAccess{paths: map[string]fpath{}, zero: reflect.New(t).Elem()}
	fieldPaths(t, nil, false, fa.paths)
	return fa
}

// of is the field f of value's table (no node yet), and its Go type:
// read by its index and omitted by its kind's rule where the index is
// where GetFrom finds it, else by GetFrom and CanOmit.
func (fa fieldAccess) of(f *value.FieldCacheEntry) (ffield, reflect.Type) {
	ff := ffield{f: f, omit: oGeneric, conv: f.TypeEntry.CanConvertToUnstructured(), name: fieldName(f.JsonName)}
	got := f.GetFrom(fa.zero)
	if p, ok := fa.paths[f.JsonName]; ok && !p.viaPtr && !p.omitzero && got.CanAddr() {
		if mine := fa.zero.FieldByIndex(p.index); mine.Type() == got.Type() && mine.UnsafeAddr() == got.UnsafeAddr() {
			ff.index, ff.omit = p.index, omitRule(p)
		}
	}
	return ff, got.Type()
}

// fpath is where value's field table finds a field, as its
// buildStructCacheEntry does.
type fpath struct {
	index               []int
	t                   reflect.Type
	viaPtr              bool
	omitempty, omitzero bool
}

func fieldPaths(t reflect.Type, prefix []int, viaPtr bool, out map[string]fpath) {
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.PkgPath != "" && !sf.Anonymous {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		index := append(slices.Clip(prefix), i)
		if sf.Anonymous && name == "" {
			e, p := sf.Type, viaPtr
			if e.Kind() == reflect.Pointer {
				e, p = e.Elem(), true
			}
			if e.Kind() == reflect.Struct {
				fieldPaths(e, index, p, out)
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		o := strings.Split(opts, ",")
		out[name] = fpath{index: index, t: sf.Type, viaPtr: viaPtr,
			omitempty: slices.Contains(o, "omitempty"), omitzero: slices.Contains(o, "omitzero")}
	}
}

// omitRule is value's CanOmit of a field without omitzero: isEmpty by
// its kind where it has omitempty.
func omitRule(p fpath) fomit {
	if !p.omitempty {
		return oNever
	}
	switch p.t.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return oLen
	case reflect.Bool:
		return oBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return oInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return oUint
	case reflect.Float32, reflect.Float64:
		return oFloat
	case reflect.Interface, reflect.Pointer:
		return oNil
	case reflect.Struct:
		return oNever
	}
	return oGeneric
}

func (cp *fcompiler) fillMap(n *fnode, t reflect.Type, a schema.Atom) {
	if a.Map == nil {
		n.shape = fMap
		return
	}
	if t.Key().Kind() != reflect.String || len(a.Map.Fields) > 0 {
		n.ptr = false
		return
	}
	n.shape, n.ok, n.atomic = fMap, true, a.Map.ElementRelationship == schema.Atomic
	if et := a.Map.ElementType; et != (schema.TypeRef{}) {
		n.elem = cp.node(t.Elem(), et)
	}
}

func (cp *fcompiler) fillList(n *fnode, t reflect.Type, a schema.Atom) {
	n.shape = fList
	if a.List == nil {
		return
	}
	l := a.List
	n.ok, n.elem = true, cp.node(t.Elem(), l.ElementType)
	switch {
	case l.ElementRelationship == schema.Atomic:
		n.list = lAtomic
	case l.ElementRelationship != schema.Associative:
		n.list = lOther
	case len(l.Keys) == 0:
		n.list = lSet
		if e := n.elem; e.conv || e.ptr || e.t.Kind() != reflect.String || e.shape != fScalar {
			n.shape, n.ptr = fFallback, false
		}
	default:
		n.list = lKeyed
		if !cp.keys(n, l) {
			n.shape, n.ptr, n.keys = fFallback, false, nil
		}
	}
}

// keys compiles a keyed list's keys as ritemElement reads them; false
// where it reads them through value (items not structs, keys not strings
// or integers, defaults not strings).
func (cp *fcompiler) keys(n *fnode, l *schema.List) bool {
	e := n.elem
	if !e.filled || e.conv || e.ptr || e.shape != fStruct || !e.ok {
		return false
	}
	a, ok := cp.s.Resolve(l.ElementType)
	if !ok || a.Map == nil {
		return false
	}
	for _, name := range l.Keys {
		k := fkey{name: name}
		k.pre = append(append([]byte{'"'}, appendJSONName(nil, name)...), '"', ':')
		for i := range e.fields {
			if f := &e.fields[i]; f.f.JsonName == name {
				if f.conv {
					return false
				}
				switch fieldGoType(e.t, f).Kind() {
				case reflect.String:
				case reflect.Int, reflect.Int32, reflect.Int64:
					k.isInt = true
				default:
					return false
				}
				k.field = f
			}
		}
		if k.field == nil || k.field.omit != oNever {
			sf, _ := a.Map.FindField(name)
			if sf.Default != nil {
				s, isString := sf.Default.(string)
				if !isString {
					return false
				}
				k.def = &s
			}
		}
		n.keys = append(n.keys, k)
	}
	slices.SortFunc(n.keys, func(a, b fkey) int { return strings.Compare(a.name, b.name) })
	return len(n.keys) > 0
}

// fieldGoType is the Go type of a struct's field.
func fieldGoType(t reflect.Type, f *ffield) reflect.Type {
	return f.f.GetFrom(reflect.New(t).Elem()).Type()
}
