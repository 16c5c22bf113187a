package apiserver

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// The walk writes the FieldsV1 of a create as it goes, the bytes
// fieldpath.Set.ToJSON writes for the set upstream's comparison makes,
// less the reset fields (Set.RecursiveDifference) and the metadata no
// manager owns (Set.Difference of stripSet), without the set. A node
// of the path is written when its first member or child is: its path
// element as ToJSON writes it, "{", "." first when the node is itself a
// member, its children, "}". Its children are written in the order the
// walk finds them, and put in fieldpath's order (fields by name, then
// keys, values, indexes; PathElement.Compare) when the node closes. A
// node is a member where the live object has nothing (the walk's rule:
// a leaf or a node whose lhs is nil is inserted), so whether "." comes
// first is known when it opens; the walk checks it when it closes.

// emitState is the memory one walk writes in, reused from a pool.
type emitState struct {
	buf     []byte
	scratch []byte
	pe      []byte
	entries []emitEntry
	path    []pathStep
	// items are the elements of the lists being walked (itemsSeen);
	// alloc, the walk's allocator of values.
	items []fieldpath.PathElement
	alloc value.Allocator
	// keys, kv, idx and kvs are the compiled walk's: a map's keys or a
	// set's strings, keyed items' keys and order, a map's entries.
	keys []string
	kv   []fkeyv
	idx  []int
	kvs  []fmapEntry
	// walker is the walk itself.
	walker createWalker
}

// emitStateMax is the most a pooled state keeps.
const emitStateMax = 1 << 20

// emitEntry is a written child of the open node: its bytes in buf and
// what it sorts by (a field's name, or an item's path element).
type emitEntry struct {
	start, end int
	name       string
	item       fieldpath.PathElement
	isItem     bool
}

// pathStep is a step of the walk's path: a map's key or a list item's
// element, and what is written for it.
type pathStep struct {
	key string
	// name, when set, is key in memory that is never written (a struct
	// field's name in value's field table), which the path element
	// points to instead of a copy.
	name   *string
	item   fieldpath.PathElement
	isItem bool
	// lhsNil: the live object has no value here, so the node is a
	// member of the set (its "." is written first when it has children).
	lhsNil bool

	// member: inserted; open: its name and "{" written, at start; dot:
	// its "." written; content: something written inside it.
	member, open, dot, content bool
	// drop: removed with all under it by the reset fields; keep: its
	// membership stays (not stripped).
	drop, keep bool
	// written: written whole by the compiled walk.
	written     bool
	excl, strip *fieldpath.Set
	start       int
	// first is the index of its first child in entries.
	first int
}

func (s *pathStep) element() fieldpath.PathElement {
	if s.isItem {
		return s.item
	}
	if s.name != nil {
		return fieldpath.PathElement{FieldName: s.name}
	}
	key := s.key
	return fieldpath.PathElement{FieldName: &key}
}

func (s *pathStep) fieldName() string {
	if s.name != nil {
		return *s.name
	}
	return s.key
}

// push enters a step: whether the reset fields drop it and whether the
// strip set takes its membership, from its parent's sets.
func (w *createWalker) push(s pathStep) {
	excl, strip, drop := w.rootExcl, w.rootStrip, false
	if n := len(w.path); n > 0 {
		p := &w.path[n-1]
		excl, strip, drop = p.excl, p.strip, p.drop
	}
	s.keep = true
	s.first = len(w.st.entries)
	if drop {
		s.drop = true
	} else if excl != nil || strip != nil {
		pe := s.element()
		if excl != nil {
			if excl.Members.Has(pe) {
				s.drop = true
			} else if c, ok := excl.Children.Get(pe); ok {
				s.excl = c
			}
		}
		if strip != nil {
			s.keep = !strip.Members.Has(pe)
			if c, ok := strip.Children.Get(pe); ok {
				s.strip = c
			}
		}
	}
	w.path = append(w.path, s)
}

// pop leaves a step, writing it if it is a member not yet written, or
// closing it if it is open.
func (w *createWalker) pop() {
	n := len(w.path)
	s := &w.path[n-1]
	switch {
	case s.drop, s.written:
	case s.open:
		if s.dot != (s.member && s.keep) {
			w.bad = true
		}
		w.sortEntries(s.first)
		w.st.buf = append(w.st.buf, '}')
		w.addEntry(s, s.start)
	case s.member && s.keep:
		w.beginChild(n - 1)
		start := len(w.st.buf)
		w.writeElement(s)
		w.st.buf = append(w.st.buf, '{', '}')
		w.addEntry(s, start)
	}
	w.path = w.path[:n-1]
}

// insert makes the node at the end of the path a member.
func (w *createWalker) insert() {
	if n := len(w.path); n > 0 {
		w.path[n-1].member = true
	}
}

// addEntry records step s, written from start to the end of buf, as a
// child of its parent (its own children are done).
func (w *createWalker) addEntry(s *pathStep, start int) {
	e := emitEntry{start: start, end: len(w.st.buf), isItem: s.isItem}
	if s.isItem {
		e.item = s.item
	} else {
		e.name = s.fieldName()
	}
	w.st.entries = append(w.st.entries[:s.first], e)
}

// beginChild writes what precedes a child of path[i]'s parent: the
// parent opened, and a comma after what it holds.
func (w *createWalker) beginChild(i int) {
	content := &w.rootContent
	if i > 0 {
		w.open(i - 1)
		content = &w.path[i-1].content
	}
	if *content {
		w.st.buf = append(w.st.buf, ',')
	}
	*content = true
}

// open writes path[i]'s name and "{", and its "." if it is a member.
func (w *createWalker) open(i int) {
	s := &w.path[i]
	if s.open {
		return
	}
	w.beginChild(i)
	s = &w.path[i]
	s.start = len(w.st.buf)
	w.writeElement(s)
	w.st.buf = append(w.st.buf, '{')
	s.open = true
	if s.lhsNil && s.keep {
		w.st.buf = append(w.st.buf, `".":{}`...)
		s.dot, s.content = true, true
	}
}

// writeElement writes s's path element as a JSON object's field name, as
// fieldpath's serializePathElementToWriter and jsoniter's
// WriteObjectField write it.
func (w *createWalker) writeElement(s *pathStep) {
	if !s.isItem {
		w.st.buf = append(w.st.buf, `"f:`...)
		w.st.buf = appendJSONName(w.st.buf, s.fieldName())
		w.st.buf = append(w.st.buf, '"', ':')
		return
	}
	pe, ok := appendPathElement(w.st.pe[:0], s.item)
	w.st.pe = pe
	if !ok {
		w.bad = true
		return
	}
	w.st.buf = append(w.st.buf, '"')
	w.st.buf = appendJSONName(w.st.buf, pe)
	w.st.buf = append(w.st.buf, '"', ':')
}

// appendPathElement is fieldpath.SerializePathElement of an item's
// element: its keys' or its value's JSON as jsoniter's
// ConfigCompatibleWithStandardLibrary writes it.
func appendPathElement(b []byte, pe fieldpath.PathElement) ([]byte, bool) {
	switch {
	case pe.Key != nil:
		b = append(b, 'k', ':', '{')
		for i, f := range *pe.Key {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = appendJSONName(b, f.Name)
			b = append(b, '"', ':')
			var ok bool
			if b, ok = appendScalar(b, f.Value); !ok {
				return appendSerialized(b[:0], pe)
			}
		}
		return append(b, '}'), true
	case pe.Value != nil:
		b = append(b, 'v', ':')
		if b, ok := appendScalar(b, *pe.Value); ok {
			return b, true
		}
		return appendSerialized(b[:0], pe)
	}
	return appendSerialized(b, pe)
}

// appendSerialized is fieldpath's serialization itself, for what
// appendScalar does not write.
func appendSerialized(b []byte, pe fieldpath.PathElement) ([]byte, bool) {
	s, err := fieldpath.SerializePathElement(pe)
	return append(b, s...), err == nil
}

// appendScalar writes a string, an integer or a bool as jsoniter's
// WriteVal of its Unstructured() does with HTML escaping; false for
// any other value.
func appendScalar(b []byte, v value.Value) ([]byte, bool) {
	switch u := v.Unstructured().(type) {
	case string:
		b = append(b, '"')
		b = appendJSONStringHTML(b, u)
		return append(b, '"'), true
	case int64:
		return strconv.AppendInt(b, u, 10), true
	case int:
		return strconv.AppendInt(b, int64(u), 10), true
	case bool:
		return strconv.AppendBool(b, u), true
	}
	return b, false
}

const hexDigits = "0123456789abcdef"

// appendJSONName writes s's characters as jsoniter's WriteString (an
// object's field name) does: quotes, backslashes and control characters
// escaped, all else as is.
func appendJSONName[S ~string | ~[]byte](b []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

// appendEscape writes an ASCII character jsoniter escapes.
func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendJSONStringHTML writes s's characters as jsoniter's
// WriteStringWithHTMLEscaped (a string value with EscapeHTML) does: also
// <, > and &, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONStringHTML(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// compareEntries is PathElement.Compare of two entries' elements.
func compareEntries(a, b emitEntry) int {
	if !a.isItem && !b.isItem {
		return strings.Compare(a.name, b.name)
	}
	return entryElement(&a).Compare(entryElement(&b))
}

func entryElement(e *emitEntry) fieldpath.PathElement {
	if e.isItem {
		return e.item
	}
	return fieldpath.PathElement{FieldName: &e.name}
}

// sortEntries puts the children from entries[first:] in fieldpath's
// order in buf, where they are one after the other, a comma apart.
func (w *createWalker) sortEntries(first int) {
	es := w.st.entries[first:]
	if len(es) < 2 {
		return
	}
	sorted := true
	for i := 1; i < len(es); i++ {
		if c := compareEntries(es[i-1], es[i]); c >= 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	lo, hi := es[0].start, es[len(es)-1].end
	slices.SortFunc(es, compareEntries)
	sc := w.st.scratch[:0]
	for i, e := range es {
		if i > 0 {
			if compareEntries(es[i-1], e) == 0 {
				w.bad = true
			}
			sc = append(sc, ',')
		}
		sc = append(sc, w.st.buf[e.start:e.end]...)
	}
	if len(sc) != hi-lo {
		w.bad = true
	} else {
		copy(w.st.buf[lo:hi], sc)
	}
	w.st.scratch = sc
}

// fieldsV1 ends the walk: the FieldsV1 written (nil for an empty set) and
// whether the walk wrote it as it should.
func (w *createWalker) fieldsV1() ([]byte, bool) {
	if w.bad || len(w.path) != 0 {
		return nil, false
	}
	w.sortEntries(0)
	if w.bad {
		return nil, false
	}
	if len(w.st.entries) == 0 {
		return nil, true
	}
	w.st.buf = append(w.st.buf, '}')
	return slices.Clone(w.st.buf), true
}
