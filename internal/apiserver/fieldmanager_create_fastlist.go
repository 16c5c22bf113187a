package apiserver

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// The compiled walk's lists (fieldmanager_create_fast.go), and its
// validation of what it writes as a leaf (rvalidate on nodes).

// fkeyv is a keyed list item's key: set (present, its own or its
// default), an integer or a string.
type fkeyv struct {
	set, isInt bool
	i          int64
	s          string
}

func (w *createWalker) flist(n *fnode, rv reflect.Value) bool {
	if rv.IsNil() {
		w.leafNode()
		return true
	}
	if !n.ok {
		return false
	}
	ln := rv.Len()
	if ln == 0 || n.list == lAtomic {
		w.leafNode()
		return ln == 0 || w.fvalidItems(n, rv)
	}
	switch n.list {
	case lSet:
		return w.fset(n, rv, ln, true)
	case lKeyed:
		return w.fkeyed(n, rv, ln, true)
	}
	return false
}

// openItems writes a list's "{", and its "." when it is a member.
func (w *createWalker) openItems(dot bool) {
	if dot {
		w.st.buf = append(w.st.buf, `{".":{}`...)
	} else {
		w.st.buf = append(w.st.buf, '{')
	}
}

// itemComma writes what precedes the list's item i.
func (w *createWalker) itemComma(dot bool, i int) {
	if dot || i > 0 {
		w.st.buf = append(w.st.buf, ',')
	}
}

// fset writes a set of strings, by value; dot: the list is a member.
func (w *createWalker) fset(n *fnode, rv reflect.Value, ln int, dot bool) bool {
	if !n.elem.ok {
		return false
	}
	base := len(w.st.keys)
	for i := range ln {
		w.st.keys = append(w.st.keys, rv.Index(i).String())
	}
	keys := w.st.keys[base:]
	if !slices.IsSorted(keys) {
		slices.Sort(keys)
	}
	ok := true
	w.openItems(dot)
	for i, k := range keys {
		if i > 0 && keys[i-1] == k {
			ok = false
			break
		}
		pe := append(w.st.pe[:0], 'v', ':', '"')
		pe = appendJSONStringHTML(pe, k)
		pe = append(pe, '"')
		w.st.pe = pe
		w.itemComma(dot, i)
		w.st.buf = append(w.st.buf, '"')
		w.st.buf = appendJSONName(w.st.buf, pe)
		w.st.buf = append(w.st.buf, `":{}`...)
	}
	w.st.buf = append(w.st.buf, '}')
	clear(keys)
	w.st.keys = w.st.keys[:base]
	return ok
}

// itemKeys reads a keyed list item's keys into w.st.kv, as ritemElement
// does; false where it has none.
func (w *createWalker) itemKeys(n *fnode, item reflect.Value) bool {
	present := false
	for j := range n.keys {
		k := &n.keys[j]
		var v fkeyv
		if k.field != nil {
			if fv, omit := k.field.get(item); !omit {
				v.set = true
				if k.isInt {
					v.isInt, v.i = true, fv.Int()
				} else {
					v.s = fv.String()
				}
			}
		}
		if !v.set && k.def != nil {
			v.set, v.s = true, *k.def
		}
		present = present || v.set
		w.st.kv = append(w.st.kv, v)
	}
	return present
}

// compareKeys is FieldList.Compare of two items' keys.
func compareKeys(keys []fkey, a, b []fkeyv) int {
	i, j := 0, 0
	for {
		for i < len(a) && !a[i].set {
			i++
		}
		for j < len(b) && !b[j].set {
			j++
		}
		switch {
		case i >= len(a) && j >= len(b):
			return 0
		case i >= len(a):
			return -1
		case j >= len(b):
			return 1
		}
		if c := strings.Compare(keys[i].name, keys[j].name); c != 0 {
			return c
		}
		x, y := a[i], b[j]
		if x.isInt != y.isInt {
			if x.isInt {
				return -1
			}
			return 1
		}
		c := 0
		if x.isInt {
			c = cmp.Compare(x.i, y.i)
		} else {
			c = strings.Compare(x.s, y.s)
		}
		if c != 0 {
			return c
		}
		i, j = i+1, j+1
	}
}

// fkeyed writes a list of structs by their keys; dot: the list is a
// member.
func (w *createWalker) fkeyed(n *fnode, rv reflect.Value, ln int, dot bool) bool {
	nk := len(n.keys)
	base, ibase := len(w.st.kv), len(w.st.idx)
	defer func() {
		clear(w.st.kv[base:])
		w.st.kv, w.st.idx = w.st.kv[:base], w.st.idx[:ibase]
	}()
	for i := range ln {
		if !w.itemKeys(n, rv.Index(i)) {
			return false
		}
		w.st.idx = append(w.st.idx, i)
	}
	kv := w.st.kv[base:]
	keysOf := func(i int) []fkeyv { return kv[i*nk : (i+1)*nk] }
	cmpItems := func(a, b int) int { return compareKeys(n.keys, keysOf(a), keysOf(b)) }
	idx := w.st.idx[ibase:]
	if !slices.IsSortedFunc(idx, cmpItems) {
		slices.SortFunc(idx, cmpItems)
	}
	for i := 1; i < len(idx); i++ {
		if cmpItems(idx[i-1], idx[i]) == 0 {
			return false
		}
	}
	w.openItems(dot)
	for p := range ln {
		i := w.st.idx[ibase+p]
		pe := append(w.st.pe[:0], 'k', ':', '{')
		first := true
		for j, v := range w.st.kv[base+i*nk : base+(i+1)*nk] {
			if !v.set {
				continue
			}
			if !first {
				pe = append(pe, ',')
			}
			first = false
			pe = append(pe, n.keys[j].pre...)
			if v.isInt {
				pe = strconv.AppendInt(pe, v.i, 10)
			} else {
				pe = append(pe, '"')
				pe = appendJSONStringHTML(pe, v.s)
				pe = append(pe, '"')
			}
		}
		pe = append(pe, '}')
		w.st.pe = pe
		w.itemComma(dot, p)
		w.st.buf = append(w.st.buf, '"')
		w.st.buf = appendJSONName(w.st.buf, pe)
		w.st.buf = append(w.st.buf, '"', ':')
		if !w.fwrite(n.elem, rv.Index(i)) {
			return false
		}
	}
	w.st.buf = append(w.st.buf, '}')
	return true
}

// fvalid is rvalidate of a node's value.
func (w *createWalker) fvalid(n *fnode, rv reflect.Value) bool {
	if n.shape == fFallback {
		return w.rvalidate(n.tr, rv)
	}
	if n.ptr {
		if rv.IsNil() {
			return true
		}
		rv = rv.Elem()
	}
	switch n.shape {
	case fScalar:
		return n.ok
	case fBytes:
		return n.ok || rv.IsNil()
	case fTime:
		return n.strOK || timeOf(rv).IsZero()
	case fIntOrString:
		return intOrStringOK(n, rv)
	case fStruct:
		return n.ok && w.fvalidStruct(n, rv)
	case fMap:
		return rv.IsNil() || (n.ok && w.fvalidMap(n, rv))
	case fList:
		return rv.IsNil() || (n.ok && w.fvalidItems(n, rv))
	}
	return false
}

func (w *createWalker) fvalidStruct(n *fnode, rv reflect.Value) bool {
	for i := range n.fields {
		f := &n.fields[i]
		fv, omit := f.get(rv)
		if omit {
			continue
		}
		if f.node == nil || !w.fvalid(f.node, fv) {
			return false
		}
	}
	return true
}

func (w *createWalker) fvalidMap(n *fnode, rv reflect.Value) bool {
	if rv.Len() == 0 {
		return true
	}
	if n.elem == nil {
		return false
	}
	if e := n.elem; e.shape == fScalar && !e.ptr {
		return e.ok
	}
	it := rv.MapRange()
	for it.Next() {
		if !w.fvalid(n.elem, it.Value()) {
			return false
		}
	}
	return true
}

func (w *createWalker) fvalidItems(n *fnode, rv reflect.Value) bool {
	for i := range rv.Len() {
		item := rv.Index(i)
		if n.list == lKeyed {
			base := len(w.st.kv)
			ok := w.itemKeys(n, item)
			clear(w.st.kv[base:])
			w.st.kv = w.st.kv[:base]
			if !ok {
				return false
			}
		}
		if !w.fvalid(n.elem, item) {
			return false
		}
	}
	return true
}
