package etcd3

import (
	"errors"
	"path"
	"reflect"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// A write returns the object it stored. Decoding the bytes just written
// (as upstream's store does) costs about a tenth of a create's CPU; the
// object that was encoded is already there. It is not quite what a decode
// gives, though: a decode turns empty slices and maps into nil, times
// into whole seconds in time.Local, quantities into their parsed
// canonical form, and so on. asDecoded makes the encoded object into
// exactly what decoding its encoding gives (reflect.DeepEqual, checked for
// every built-in kind in decoded_test.go), for the encodings whose decoding
// it knows by construction: apimachinery's generated protobuf for built-in
// types, and the JSON of custom resources. Anything else is decoded.

// asDecoded moves obj, just encoded as data, into out as decoding data into
// out would leave it, less the resourceVersion the caller sets. It reports
// false, having left out alone, when it cannot: the caller decodes.
//
// obj is consumed: it may be changed, and out shares memory with it. What
// obj points to is never written: a slice, map or pointed-to struct that
// must change is copied first, so that memory obj shares with others
// (a default, a cached object) is left as it was.
func (s *Store) asDecoded(obj, out runtime.Object, data []byte) (ok bool) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		o, ok := out.(*unstructured.Unstructured)
		return ok && s.unstructuredDecoded(u, o, data)
	}
	if !s.normalize(obj, out, data) {
		return false
	}
	moveDecoded(obj, out)
	return true
}

// normalize makes obj, a typed object just encoded as data, in place what
// decoding data into an object of out's type gives (its kind included),
// less the resourceVersion; false when it cannot (obj may then be
// partly changed: it is consumed either way, as in asDecoded).
func (s *Store) normalize(obj, out runtime.Object, data []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false // a value the plans did not foresee: the decode is right
		}
	}()
	ov, tv := reflect.ValueOf(obj), reflect.ValueOf(out)
	if ov.Kind() != reflect.Pointer || tv.Type() != ov.Type() || ov.IsNil() || tv.IsNil() {
		return false
	}
	if _, ok := obj.(*unstructured.Unstructured); ok {
		return false
	}
	gvk, ok := protobufTypeMeta(data)
	t := ov.Type().Elem()
	if !ok || gvk.Kind != t.Name() || gvk.Version != path.Base(t.PkgPath()) {
		return false // not protobuf, or converted to another version when encoded
	}
	p := s.plans.of(t)
	if p == nil {
		return false
	}
	if p.fix(ov.Elem()) != nil {
		return false
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return true
}

// moveDecoded sets out to obj, which normalize made decoded; they then
// share memory.
func moveDecoded(obj, out runtime.Object) {
	reflect.ValueOf(out).Elem().Set(reflect.ValueOf(obj).Elem())
}

// plans holds the normalising plan of each type a store has seen (one,
// usually: the resource's).
type plans struct {
	mu sync.Mutex
	m  map[reflect.Type]*plan // nil value: the type is not eligible
}

// of returns the plan of a top-level object type (a struct with an
// untagged TypeMeta, which the envelope carries), or nil.
func (ps *plans) of(t reflect.Type) *plan {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p, ok := ps.m[t]; ok {
		return p
	}
	if ps.m == nil {
		ps.m = map[reflect.Type]*plan{}
	}
	p, err := topPlan(t)
	if err != nil {
		p = nil
	}
	ps.m[t] = p
	return p
}

type op uint8

const (
	opNone       op = iota // decoded as it is
	opStruct               // fields
	opPtr                  // nil, or a pointer to elem
	opSlice                // empty is nil; elements as elem
	opMap                  // empty is nil; values as elem
	opBytesValue           // a []byte map value: never nil
	opZero                 // not encoded: zero
	opTime                 // metav1.Time: whole seconds, time.Local
	opMicroTime            // metav1.MicroTime: microseconds, time.Local
	opQuantity             // resource.Quantity: parsed from its canonical string
	opRawExt               // runtime.RawExtension: Raw only
	opFieldsV1             // metav1.FieldsV1: empty is zero
)

// plan is what decoding the generated protobuf of a type does to a value
// of it.
type plan struct {
	op     op
	t      reflect.Type
	fields []fieldPlan // opStruct
	elem   *plan       // opPtr, opSlice, opMap
}

type fieldPlan struct {
	index int
	p     *plan
}

var errNotEligible = errors.New("not eligible")

var (
	typeMetaType  = reflect.TypeFor[metav1.TypeMeta]()
	timeType      = reflect.TypeFor[metav1.Time]()
	microTimeType = reflect.TypeFor[metav1.MicroTime]()
	quantityType  = reflect.TypeFor[resource.Quantity]()
	rawExtType    = reflect.TypeFor[runtime.RawExtension]()
	fieldsV1Type  = reflect.TypeFor[metav1.FieldsV1]()
	stdTimeType   = reflect.TypeFor[time.Time]()

	unmarshalerType = reflect.TypeFor[interface{ Unmarshal([]byte) error }]()
)

// topPlan plans a top-level object: its TypeMeta is set from the
// envelope, every other field as the generated code decodes it.
func topPlan(t reflect.Type) (*plan, error) {
	if t.Kind() != reflect.Struct || !generated(t) {
		return nil, errNotEligible
	}
	seen := map[reflect.Type]*plan{}
	p := &plan{op: opStruct, t: t}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type == typeMetaType && f.Tag.Get("protobuf") == "" {
			continue // the envelope's
		}
		fp, err := fieldOf(f, seen)
		if err != nil {
			return nil, err
		}
		if fp.op != opNone {
			p.fields = append(p.fields, fieldPlan{i, fp})
		}
	}
	return p, nil
}

func fieldOf(f reflect.StructField, seen map[reflect.Type]*plan) (*plan, error) {
	tag := f.Tag.Get("protobuf")
	if tag == "" || tag == "-" {
		if f.Type == typeMetaType && f.IsExported() {
			// Not in the message: a decode leaves it zero.
			return &plan{op: opZero, t: f.Type}, nil
		}
		return nil, errNotEligible
	}
	if !f.IsExported() || strings.Contains(tag, ",oneof") {
		return nil, errNotEligible
	}
	return planOf(f.Type, seen)
}

// planOf plans a type as the generated protobuf code of k8s.io/api and
// apimachinery encodes and decodes it. Recursive types share plans.
func planOf(t reflect.Type, seen map[reflect.Type]*plan) (*plan, error) {
	if p, ok := seen[t]; ok {
		return p, nil
	}
	switch t {
	case timeType:
		return &plan{op: opTime, t: t}, nil
	case microTimeType:
		return &plan{op: opMicroTime, t: t}, nil
	case quantityType:
		return &plan{op: opQuantity, t: t}, nil
	case rawExtType:
		return &plan{op: opRawExt, t: t}, nil
	case fieldsV1Type:
		return &plan{op: opFieldsV1, t: t}, nil
	case stdTimeType:
		return nil, errNotEligible
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return &plan{op: opNone, t: t}, nil
	case reflect.Pointer:
		switch t.Elem().Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			return nil, errNotEligible
		}
		e, err := planOf(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		if e.op == opNone {
			return e, nil
		}
		return &plan{op: opPtr, t: t, elem: e}, nil
	case reflect.Slice:
		if t.Name() != "" && reflect.PointerTo(t).Implements(unmarshalerType) {
			// A slice type that is a message of its own (metav1.Verbs,
			// ExtraValue): its own rules.
			return nil, errNotEligible
		}
		if t.Elem().Kind() == reflect.Uint8 {
			// A bytes field: nil is not written, anything else is and
			// decodes to a non-nil slice.
			return &plan{op: opNone, t: t}, nil
		}
		switch t.Elem().Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			return nil, errNotEligible
		}
		e, err := planOf(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		return &plan{op: opSlice, t: t, elem: e}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, errNotEligible
		}
		switch vt := t.Elem(); {
		case vt.Kind() == reflect.Slice && vt.Elem().Kind() == reflect.Uint8:
			return &plan{op: opMap, t: t, elem: &plan{op: opBytesValue, t: vt}}, nil
		case vt.Kind() == reflect.Pointer || vt.Kind() == reflect.Map || vt.Kind() == reflect.Interface:
			return nil, errNotEligible
		case vt.Kind() == reflect.Slice:
			return nil, errNotEligible
		}
		e, err := planOf(t.Elem(), seen)
		if err != nil {
			return nil, err
		}
		return &plan{op: opMap, t: t, elem: e}, nil
	case reflect.Struct:
		if !generated(t) {
			return nil, errNotEligible
		}
		p := &plan{op: opStruct, t: t}
		seen[t] = p
		for i := range t.NumField() {
			fp, err := fieldOf(t.Field(i), seen)
			if err != nil {
				return nil, err
			}
			if fp.op != opNone {
				p.fields = append(p.fields, fieldPlan{i, fp})
			}
		}
		if len(p.fields) == 0 {
			p.op = opNone
		}
		return p, nil
	}
	return nil, errNotEligible
}

// generated reports whether a struct type's protobuf code is generated by
// go-to-protobuf, which the rules of planOf describe: the built-in API
// types (k8s.io/api has no hand-written protobuf code), regis's own
// (internal/apis), and the apimachinery types they hold whose code is
// generated. Hand-written ones (Time, MicroTime, Quantity, FieldsV1) have
// ops of their own; any other type is decoded.
func generated(t reflect.Type) bool {
	pkg := t.PkgPath()
	switch {
	case strings.HasPrefix(pkg, "k8s.io/api/"), strings.HasPrefix(pkg, "github.com/regis-dev/regis/internal/apis/"):
		return true
	case pkg == "k8s.io/apimachinery/pkg/apis/meta/v1":
		switch t.Name() {
		case "ObjectMeta", "OwnerReference", "ManagedFieldsEntry", "LabelSelector", "LabelSelectorRequirement",
			"Condition", "Duration":
			return true
		}
	case pkg == "k8s.io/apimachinery/pkg/util/intstr":
		return t.Name() == "IntOrString"
	}
	return false
}

// normal reports whether v is already as a decode leaves it. It only reads.
func (p *plan) normal(v reflect.Value) (bool, error) {
	switch p.op {
	case opNone:
		return true, nil
	case opZero:
		return v.IsZero(), nil
	case opStruct:
		for _, f := range p.fields {
			if ok, err := f.p.normal(v.Field(f.index)); !ok || err != nil {
				return ok, err
			}
		}
		return true, nil
	case opPtr:
		if v.IsNil() {
			return true, nil
		}
		return p.elem.normal(v.Elem())
	case opSlice:
		if v.Len() == 0 {
			return v.IsNil(), nil
		}
		if p.elem.op == opNone {
			return true, nil
		}
		for i := range v.Len() {
			if ok, err := p.elem.normal(v.Index(i)); !ok || err != nil {
				return ok, err
			}
		}
		return true, nil
	case opMap:
		if v.Len() == 0 {
			return v.IsNil(), nil
		}
		if p.elem.op == opNone {
			return true, nil
		}
		for it := v.MapRange(); it.Next(); {
			if ok, err := p.elem.normal(it.Value()); !ok || err != nil {
				return ok, err
			}
		}
		return true, nil
	case opBytesValue:
		return !v.IsNil(), nil
	case opTime:
		t := valueOf[metav1.Time](v).Time
		return t == decodedTime(t), nil
	case opMicroTime:
		t := valueOf[metav1.MicroTime](v).Time
		return t == decodedMicroTime(t), nil
	case opQuantity:
		q := *valueOf[resource.Quantity](v)
		d, err := decodedQuantity(q)
		if err != nil {
			return false, err
		}
		// Equal only when neither holds an inf.Dec (a pointer).
		return d == q, nil
	case opRawExt:
		return valueOf[runtime.RawExtension](v).Object == nil, nil
	case opFieldsV1:
		return len(valueOf[metav1.FieldsV1](v).GetRawBytes()) > 0 || v.IsZero(), nil
	}
	return false, errNotEligible
}

// valueOf returns a pointer to v's value: v itself when it is
// addressable (no copy to the heap), else a copy (a map value).
func valueOf[T any](v reflect.Value) *T {
	if v.CanAddr() {
		return v.Addr().Interface().(*T)
	}
	c := v.Interface().(T)
	return &c
}

// fix makes v, which the caller may write, as a decode leaves it. What v
// points to is written only through copies.
func (p *plan) fix(v reflect.Value) error {
	switch p.op {
	case opNone:
		return nil
	case opZero:
		if !v.IsZero() {
			v.SetZero()
		}
		return nil
	case opStruct:
		for _, f := range p.fields {
			if err := f.p.fix(v.Field(f.index)); err != nil {
				return err
			}
		}
		return nil
	case opPtr:
		if v.IsNil() {
			return nil
		}
		if ok, err := p.elem.normal(v.Elem()); ok || err != nil {
			return err
		}
		c := reflect.New(p.elem.t)
		c.Elem().Set(v.Elem())
		if err := p.elem.fix(c.Elem()); err != nil {
			return err
		}
		v.Set(c)
		return nil
	case opSlice, opMap:
		if v.Len() == 0 {
			if !v.IsNil() {
				v.SetZero()
			}
			return nil
		}
		if ok, err := p.normal(v); ok || err != nil {
			return err
		}
		if p.op == opSlice {
			c := reflect.MakeSlice(p.t, v.Len(), v.Len())
			reflect.Copy(c, v)
			for i := range c.Len() {
				if err := p.elem.fix(c.Index(i)); err != nil {
					return err
				}
			}
			v.Set(c)
			return nil
		}
		c := reflect.MakeMapWithSize(p.t, v.Len())
		e := reflect.New(p.elem.t).Elem()
		for it := v.MapRange(); it.Next(); {
			e.Set(it.Value())
			if err := p.elem.fix(e); err != nil {
				return err
			}
			c.SetMapIndex(it.Key(), e)
		}
		v.Set(c)
		return nil
	case opBytesValue:
		if v.IsNil() {
			v.Set(reflect.MakeSlice(p.t, 0, 0))
		}
		return nil
	case opTime:
		t := v.Addr().Interface().(*metav1.Time)
		if d := decodedTime(t.Time); d != t.Time {
			t.Time = d
		}
		return nil
	case opMicroTime:
		t := v.Addr().Interface().(*metav1.MicroTime)
		if d := decodedMicroTime(t.Time); d != t.Time {
			t.Time = d
		}
		return nil
	case opQuantity:
		q := v.Addr().Interface().(*resource.Quantity)
		d, err := decodedQuantity(*q)
		if err != nil {
			return err
		}
		*q = d
		return nil
	case opRawExt:
		r := v.Addr().Interface().(*runtime.RawExtension)
		r.Object = nil
		return nil
	case opFieldsV1:
		if f := v.Addr().Interface().(*metav1.FieldsV1); len(f.GetRawBytes()) == 0 && !v.IsZero() {
			v.SetZero() // not written
		}
		return nil
	}
	return errNotEligible
}
