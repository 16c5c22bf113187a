package apiserver

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// The FieldsV1 the walk writes is checked against fieldpath's ToJSON on
// what JSON escapes and on the order of siblings: strings with quotes,
// backslashes, control characters, HTML characters, non-ASCII and
// invalid UTF-8, U+2028; list keys of several fields; sets of values;
// maps of many keys.

// nastyWords are strings JSON escapes, or sorts in ways a naive order
// would not.
var nastyWords = []string{
	"a", "b", "B", "a b", "", "x.y/z", `q"uote`, `back\slash`, "tab\there", "nl\n", "ctl\x01\x1f",
	"<html>&", "é", "日本", "\xff\xfe", "line\u2028sep", "\u2029", "~", "a\x7f", "k:{}", ".", "f:x",
}

// TestCreateFieldsV1Escaping is TestCreateManagedFieldsRandomObjects
// with nastyWords, on the built-in rows and on a custom resource's
// objects (sets, list keys, maps of any depth).
func TestCreateFieldsV1Escaping(t *testing.T) {
	reg := trackRegistry(t)
	r := rand.New(rand.NewPCG(10, 16))
	perRow := 8
	if testing.Short() {
		perRow = 2
	}
	total, fast := 0, 0
	for _, st := range reg.Stores() {
		for i := range perRow * 2 {
			obj := st.New()
			if u, isU := obj.(*unstructured.Unstructured); isU {
				if st.Resource().GroupVersionResource() != fleetGVR {
					continue
				}
				u.Object = randomFleet(r)
				u.SetAPIVersion("track.example.com/v1")
				u.SetKind("Fleet")
			} else {
				if i >= perRow {
					break
				}
				fillRandomWords(r, reflect.ValueOf(obj).Elem(), 0, nastyWords)
			}
			if !defaults(st.Resource().Default, obj) {
				continue
			}
			total++
			slowObj := trackSlow(st, obj.DeepCopyObject(), "m")
			fastObj := obj.DeepCopyObject()
			if !trackFast(st, fastObj, "m") {
				continue
			}
			fast++
			sameFieldsV1(t, sameTimes(t, slowObj), sameTimes(t, fastObj))
		}
	}
	t.Logf("%d random objects, %d on the fast path", total, fast)
	if fast < total/3 {
		t.Errorf("only %d of %d random objects on the fast path", fast, total)
	}
}

// randomFleet is a Fleet's content with strings of nastyWords.
func randomFleet(r *rand.Rand) map[string]any {
	word := func() string { return nastyWords[r.IntN(len(nastyWords))] }
	spec := map[string]any{}
	if r.IntN(2) == 0 {
		spec["size"] = int64(r.IntN(5))
	}
	if r.IntN(2) == 0 {
		spec["name"] = word()
	}
	if r.IntN(2) == 0 {
		spec["port"] = word()
	} else {
		spec["port"] = int64(r.IntN(100))
	}
	labels := map[string]any{}
	for range r.IntN(6) {
		labels[word()] = word()
	}
	spec["labels"] = labels
	var tags, args, ports []any
	seen := map[string]bool{}
	for range r.IntN(6) {
		w := word()
		args = append(args, w)
		if !seen[w] {
			seen[w] = true
			tags = append(tags, w)
		}
	}
	seenPort := map[string]bool{}
	for range r.IntN(5) {
		w := word()
		if !seenPort[w] {
			seenPort[w] = true
			ports = append(ports, map[string]any{"name": w, "number": int64(r.IntN(3))})
		}
	}
	spec["tags"], spec["args"], spec["ports"] = tags, args, ports
	if r.IntN(2) == 0 {
		spec["selector"] = map[string]any{"app": word()}
	}
	spec["extra"] = randomMap(r, word, 0)
	obj := map[string]any{
		"metadata": map[string]any{"name": "f", "namespace": "default", "labels": map[string]any{word(): word()}},
		"spec":     spec,
	}
	if r.IntN(2) == 0 {
		obj["status"] = map[string]any{"ready": true}
	}
	return obj
}

func randomMap(r *rand.Rand, word func() string, depth int) map[string]any {
	m := map[string]any{}
	for range r.IntN(5) {
		switch k := word(); {
		case depth < 3 && r.IntN(3) == 0:
			m[k] = randomMap(r, word, depth+1)
		case r.IntN(3) == 0:
			m[k] = []any{word(), int64(1)}
		default:
			m[k] = word()
		}
	}
	return m
}

// FuzzCreateFieldsV1 checks the walk's writing against ToJSON on a small
// tree of fields, keys of two fields and values named by the fuzzer's
// strings, the walk finding them out of order.
func FuzzCreateFieldsV1(f *testing.F) {
	for i, w := range nastyWords {
		f.Add(w, nastyWords[(i+3)%len(nastyWords)], int64(i-3))
	}
	f.Fuzz(func(t *testing.T, a, b string, n int64) {
		if a == b || a == "z" || b == "z" {
			return // the tree would have a child twice
		}
		key := func(name string, n int64) fieldpath.PathElement {
			fl := value.FieldList{{Name: "n", Value: value.NewValueInterface(n)}, {Name: name, Value: value.NewValueInterface(name)}}
			fl.Sort()
			return fieldpath.PathElement{Key: &fl}
		}
		val := func(s string) fieldpath.PathElement {
			v := value.NewValueInterface(s)
			return fieldpath.PathElement{Value: &v}
		}
		field := func(s string) fieldpath.PathElement { return fieldpath.PathElement{FieldName: &s} }
		// The tree: b{., k(b,n), k(a,n){.,a}}, a{v(b), v(a)}, z.
		want := fieldpath.NewSet(
			fieldpath.MakePathOrDie(b),
			fieldpath.Path{field(b), key(b, n)},
			fieldpath.Path{field(b), key(a, n)},
			fieldpath.Path{field(b), key(a, n), field(a)},
			fieldpath.Path{field(a), val(b)},
			fieldpath.Path{field(a), val(a)},
			fieldpath.MakePathOrDie("z"),
		)
		wantJSON, err := want.ToJSON()
		if err != nil {
			t.Skip(err)
		}
		c := &createTracker{}
		w := c.walker(nil, nil)
		defer c.release(w)
		leaf := func(s pathStep) {
			w.push(s)
			w.insert()
			w.pop()
		}
		leaf(pathStep{key: "z", lhsNil: true})
		w.push(pathStep{key: b, lhsNil: true})
		leaf(pathStep{item: key(b, n), isItem: true, lhsNil: true})
		w.push(pathStep{item: key(a, n), isItem: true, lhsNil: true})
		leaf(pathStep{key: a, lhsNil: true})
		w.insert()
		w.pop()
		w.insert()
		w.pop()
		w.push(pathStep{key: a})
		leaf(pathStep{item: val(b), isItem: true, lhsNil: true})
		leaf(pathStep{item: val(a), isItem: true, lhsNil: true})
		w.pop()
		got, ok := w.fieldsV1()
		if !ok || !bytes.Equal(got, wantJSON) {
			t.Fatalf("a %q b %q n %d: ToJSON %s, walk %s (%v)", a, b, n, wantJSON, got, ok)
		}
	})
}

// TestCreateFieldsV1Strip checks the reset and stripped fields are left
// out as RecursiveDifference and Difference leave them.
func TestCreateFieldsV1Strip(t *testing.T) {
	reset := fieldpath.NewSet(fieldpath.MakePathOrDie("status"), fieldpath.MakePathOrDie("spec", "x"))
	c := &createTracker{}
	w := c.walker(reset, stripSet)
	defer c.release(w)
	leaf := func(k string) {
		w.push(pathStep{key: k, lhsNil: true})
		w.insert()
		w.pop()
	}
	for _, top := range []string{"status", "spec", "metadata", "kind"} {
		w.push(pathStep{key: top, lhsNil: true})
		for _, k := range []string{"x", "name", "labels", "y"} {
			leaf(k)
		}
		w.insert()
		w.pop()
	}
	got, ok := w.fieldsV1()
	set := fieldpath.NewSet()
	for _, top := range []string{"status", "spec", "metadata", "kind"} {
		set.Insert(fieldpath.MakePathOrDie(top))
		for _, k := range []string{"x", "name", "labels", "y"} {
			set.Insert(fieldpath.MakePathOrDie(top, k))
		}
	}
	want, err := fieldpath.NewExcludeSetFilter(reset).Filter(set).Difference(stripSet).ToJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("got %s (%v), want %s", got, ok, want)
	}
}
