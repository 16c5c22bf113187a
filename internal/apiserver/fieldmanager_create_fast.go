package apiserver

import (
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/structured-merge-diff/v6/schema"
)

// The compiled walk (fieldmanager_create_compile.go) at run time. fwrite
// writes a member node's value, "{}" or "{".":{},children}", its children
// in fieldpath's order as it goes: a struct's fields are in value's table
// by name already, a map's keys and a list's items are sorted before
// they are written. A child the compiled walk does not cover is walked
// by rwalkC (fbridge), in a step that stands for its parent.

// fmapEntry is a map's entry, to sort.
type fmapEntry struct {
	key string
	v   reflect.Value
}

// fastEnter walks the node at the end of the path with the compiled walk
// where it can: a member the live object lacks (lhs nil) that no reset or
// stripped field reaches. done false: left to rwalkC.
func (w *createWalker) fastEnter(tr schema.TypeRef, orig reflect.Value) (ok, done bool) {
	if w.fast == nil || !w.fastStep(true) {
		return false, false
	}
	return w.fastNode(w.fast.of(w.schema, orig.Type(), tr), orig)
}

// fastStep is whether the step at the end of the path is one the
// compiled walk writes: no reset or stripped field reaches it or below,
// and (member) it is a member the live object lacks; or one the reset
// fields drop whole, which it walks and writes nothing of.
func (w *createWalker) fastStep(member bool) bool {
	n := len(w.path)
	if n == 0 {
		return false
	}
	s := &w.path[n-1]
	if s.written {
		return false
	}
	if s.drop {
		return member && s.lhsNil
	}
	return s.excl == nil && s.strip == nil && (!member || (s.keep && s.lhsNil))
}

// fastNode is fastEnter with the node known (nil: none).
func (w *createWalker) fastNode(node *fnode, orig reflect.Value) (ok, done bool) {
	if w.fast == nil || node == nil || node.shape == fFallback || !w.fastStep(true) {
		return false, false
	}
	if w.path[len(w.path)-1].drop {
		// Walked for its checks; what it writes is dropped.
		mark := len(w.st.buf)
		ok = w.fwrite(node, orig)
		w.st.buf = w.st.buf[:mark]
		return ok, true
	}
	return w.fastWrite(func() bool { return w.fwrite(node, orig) }), true
}

// fastWrite writes the step at the end of the path: its element, then
// what write writes.
func (w *createWalker) fastWrite(write func() bool) bool {
	n := len(w.path)
	w.beginChild(n - 1)
	start := len(w.st.buf)
	w.writeElement(&w.path[n-1])
	if !write() {
		return false
	}
	s := &w.path[n-1]
	w.addEntry(s, start)
	s.written = true
	return true
}

// fastItems is rdoList's walk of an associative list where the live
// object has none or null: its items are members; the list has its "."
// where open would write it.
func (w *createWalker) fastItems(t *schema.List, rv reflect.Value) (ok, done bool) {
	if w.fast == nil || !w.fastStep(false) {
		return false, false
	}
	node := w.fast.of(w.schema, rv.Type(), schema.TypeRef{Inlined: schema.Atom{List: t}})
	if node == nil || node.shape != fList || !node.ok || (node.list != lSet && node.list != lKeyed) {
		return false, false
	}
	s := &w.path[len(w.path)-1]
	dot := s.lhsNil && s.keep
	return w.fastWrite(func() bool {
		if node.list == lSet {
			return w.fset(node, rv, rv.Len(), dot)
		}
		return w.fkeyed(node, rv, rv.Len(), dot)
	}), true
}

func (w *createWalker) leafNode() {
	w.st.buf = append(w.st.buf, '{', '}')
}

// get is the field's value in struct rv and whether it is omitted.
func (f *ffield) get(rv reflect.Value) (reflect.Value, bool) {
	if f.index == nil {
		fv := f.f.GetFrom(rv)
		return fv, f.f.CanOmit(fv)
	}
	fv := rv.Field(f.index[0])
	for _, i := range f.index[1:] {
		fv = fv.Field(i)
	}
	switch f.omit {
	case oNever:
		return fv, false
	case oLen:
		return fv, fv.Len() == 0
	case oBool:
		return fv, !fv.Bool()
	case oInt:
		return fv, fv.Int() == 0
	case oUint:
		return fv, fv.Uint() == 0
	case oFloat:
		return fv, fv.Float() == 0
	case oNil:
		return fv, fv.IsNil()
	}
	return fv, f.f.CanOmit(fv)
}

// fwrite writes the value of a member node of type n.
func (w *createWalker) fwrite(n *fnode, rv reflect.Value) bool {
	if n.ptr {
		if rv.IsNil() {
			w.leafNode()
			return true
		}
		rv = rv.Elem()
	}
	switch n.shape {
	case fScalar:
		if !n.ok {
			return false
		}
	case fBytes:
		if !n.ok && !rv.IsNil() {
			return false
		}
	case fTime:
		if !n.strOK && !timeOf(rv).IsZero() {
			return false
		}
	case fIntOrString:
		if !intOrStringOK(n, rv) {
			return false
		}
	case fStruct:
		return w.fstruct(n, rv)
	case fMap:
		return w.fmap(n, rv)
	case fList:
		return w.flist(n, rv)
	default:
		return false
	}
	w.leafNode()
	return true
}

func intOrStringOK(n *fnode, rv reflect.Value) bool {
	switch intstr.Type(rv.Field(0).Int()) {
	case intstr.Int:
		return n.ok
	case intstr.String:
		return n.strOK
	}
	return false
}

func (w *createWalker) fstruct(n *fnode, rv reflect.Value) bool {
	if !n.ok {
		return false
	}
	if n.atomic {
		w.leafNode()
		return w.fvalidStruct(n, rv)
	}
	begin := len(w.st.buf)
	w.st.buf = append(w.st.buf, `{".":{}`...)
	mark := len(w.st.buf)
	for i := range n.fields {
		f := &n.fields[i]
		fv, omit := f.get(rv)
		if omit {
			continue
		}
		if f.node == nil {
			return false
		}
		if f.node.shape == fFallback {
			if !w.fbridge(f.f.JsonName, &f.f.JsonName, f.tr, fv, f.conv) {
				return false
			}
			continue
		}
		w.st.buf = append(w.st.buf, ',')
		w.st.buf = append(w.st.buf, f.name...)
		if !w.fwrite(f.node, fv) {
			return false
		}
	}
	if len(w.st.buf) == mark {
		// Every field omitted: an empty map, a leaf.
		w.st.buf = append(w.st.buf[:begin], '{', '}')
		return true
	}
	w.st.buf = append(w.st.buf, '}')
	return true
}

// fbridge walks a child with rwalkC, under a step that stands for the
// node being written (open, its "." written).
func (w *createWalker) fbridge(key string, name *string, tr schema.TypeRef, fv reflect.Value, conv bool) bool {
	n := len(w.path)
	w.path = append(w.path, pathStep{open: true, dot: true, member: true, keep: true, content: true, written: true, first: len(w.st.entries)})
	w.push(pathStep{key: key, name: name, lhsNil: true})
	ok := w.rwalkC(tr, nil, nil, fv, conv)
	w.pop()
	w.st.entries = w.st.entries[:w.path[n].first]
	w.path = w.path[:n]
	return ok
}

func (w *createWalker) fmap(n *fnode, rv reflect.Value) bool {
	if rv.IsNil() {
		w.leafNode()
		return true
	}
	if !n.ok {
		return false
	}
	if n.atomic || rv.Len() == 0 {
		w.leafNode()
		return w.fvalidMap(n, rv)
	}
	if n.elem == nil {
		return false
	}
	if e := n.elem; e.shape == fScalar && !e.ptr {
		// Every value a leaf (or every one refused): only the keys
		// tell what is written.
		if !e.ok {
			return false
		}
		base := len(w.st.keys)
		w.mapKeys(rv)
		keys := w.st.keys[base:]
		slices.Sort(keys)
		w.st.buf = append(w.st.buf, `{".":{}`...)
		for _, k := range keys {
			w.st.buf = append(w.st.buf, `,"f:`...)
			w.st.buf = appendJSONName(w.st.buf, k)
			w.st.buf = append(w.st.buf, `":{}`...)
		}
		w.st.buf = append(w.st.buf, '}')
		clear(keys)
		w.st.keys = w.st.keys[:base]
		return true
	}
	base := len(w.st.kvs)
	it := rv.MapRange()
	for it.Next() {
		w.st.kvs = append(w.st.kvs, fmapEntry{key: it.Key().String(), v: it.Value()})
	}
	slices.SortFunc(w.st.kvs[base:], func(a, b fmapEntry) int { return strings.Compare(a.key, b.key) })
	ok := true
	w.st.buf = append(w.st.buf, `{".":{}`...)
	for i := base; ok && i < len(w.st.kvs); i++ {
		e := w.st.kvs[i]
		if n.elem.shape == fFallback {
			ok = w.fbridge(e.key, nil, n.elem.tr, e.v, n.elem.conv)
			continue
		}
		w.st.buf = append(w.st.buf, `,"f:`...)
		w.st.buf = appendJSONName(w.st.buf, e.key)
		w.st.buf = append(w.st.buf, '"', ':')
		ok = w.fwrite(n.elem, e.v)
	}
	w.st.buf = append(w.st.buf, '}')
	clear(w.st.kvs[base:])
	w.st.kvs = w.st.kvs[:base]
	return ok
}

// mapKeys appends the keys of a map with string keys to w.st.keys.
func (w *createWalker) mapKeys(rv reflect.Value) {
	switch m := rv.Interface().(type) {
	case map[string]string:
		for k := range m {
			w.st.keys = append(w.st.keys, k)
		}
	case corev1.ResourceList:
		for k := range m {
			w.st.keys = append(w.st.keys, string(k))
		}
	default:
		it := rv.MapRange()
		for it.Next() {
			w.st.keys = append(w.st.keys, it.Key().String())
		}
	}
}
