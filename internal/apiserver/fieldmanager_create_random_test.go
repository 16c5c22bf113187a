package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestCreateManagedFieldsRandomObjects checks the fast path against
// UpdateNoErrors on random objects of every built-in row: every field
// filled or not, strings from a few letters so that associative lists
// get duplicate keys, empty and null lists and maps.
func TestCreateManagedFieldsRandomObjects(t *testing.T) {
	reg := trackRegistry(t)
	r := rand.New(rand.NewPCG(16, 1))
	perRow := 12
	if testing.Short() {
		perRow = 3
	}
	total, fast := 0, 0
	for _, st := range reg.Stores() {
		if _, ok := st.New().(*unstructured.Unstructured); ok {
			continue
		}
		res := st.Resource()
		for i := range perRow {
			obj := st.New()
			fillRandom(r, reflect.ValueOf(obj).Elem(), 0)
			if !defaults(st.Resource().Default, obj) {
				continue
			}
			total++
			manager := []string{"m", "", "kubectl-create"}[i%3]
			slowObj := trackSlow(st, obj.DeepCopyObject(), manager)
			fastObj := obj.DeepCopyObject()
			if trackFast(st, fastObj, manager) {
				fast++
			} else {
				fastObj = trackUpdate(st, "", nil, obj.DeepCopyObject(), manager)
			}
			want, got := sameTimes(t, slowObj), sameTimes(t, fastObj)
			sameFieldsV1(t, want, got)
			wantJSON, _ := json.Marshal(want)
			gotJSON, _ := json.Marshal(got)
			if !bytes.Equal(wantJSON, gotJSON) {
				body, _ := json.Marshal(obj)
				t.Fatalf("%s %d: managedFields differ:\nUpdateNoErrors: %s\nfast path:      %s\nobject: %s", res.GroupVersionResource(), i, wantJSON, gotJSON, body)
			}
		}
	}
	t.Logf("%d random objects, %d on the fast path", total, fast)
	if fast < total/2 {
		t.Errorf("only %d of %d random objects on the fast path", fast, total)
	}
}

// defaults runs a row's defaulting; false if it panics on a random
// object (both paths default first).
func defaults(d func(runtime.Object), obj runtime.Object) (ok bool) {
	if d == nil {
		return true
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	d(obj.DeepCopyObject())
	return true
}

var (
	timeType     = reflect.TypeOf(metav1.Time{})
	microType    = reflect.TypeOf(metav1.MicroTime{})
	quantityType = reflect.TypeOf(resource.Quantity{})
	intstrType   = reflect.TypeOf(intstr.IntOrString{})
	rawType      = reflect.TypeOf(runtime.RawExtension{})
	jsonType     = reflect.TypeOf(apiextensionsv1.JSON{})
	durationType = reflect.TypeOf(metav1.Duration{})
	words        = []string{"a", "b", "c", "a b", "", "x.y/z"}
)

// fillRandom sets v to a random value of its type, to a bounded depth.
func fillRandom(r *rand.Rand, v reflect.Value, depth int) {
	fillRandomWords(r, v, depth, words)
}

// fillRandomWords is fillRandom with strings from words.
func fillRandomWords(r *rand.Rand, v reflect.Value, depth int, words []string) {
	if depth > 7 {
		return
	}
	switch v.Type() {
	case timeType:
		if r.IntN(2) == 0 {
			v.Set(reflect.ValueOf(metav1.NewTime(time.Unix(int64(r.IntN(1e9)), 0))))
		}
		return
	case microType:
		if r.IntN(2) == 0 {
			v.Set(reflect.ValueOf(metav1.NewMicroTime(time.Unix(int64(r.IntN(1e9)), 0))))
		}
		return
	case quantityType:
		v.Set(reflect.ValueOf(resource.MustParse([]string{"1", "100m", "2Gi", "0"}[r.IntN(4)])))
		return
	case intstrType:
		if r.IntN(2) == 0 {
			v.Set(reflect.ValueOf(intstr.FromInt32(r.Int32N(100))))
		} else {
			v.Set(reflect.ValueOf(intstr.FromString(words[r.IntN(len(words))])))
		}
		return
	case rawType, jsonType:
		if r.IntN(2) == 0 {
			v.FieldByName("Raw").SetBytes([]byte(fmt.Sprintf(`{"k":%d}`, r.IntN(3))))
		}
		return
	case durationType:
		v.Set(reflect.ValueOf(metav1.Duration{Duration: time.Duration(r.IntN(100)) * time.Second}))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Name == "ManagedFields" || f.Name == "TypeMeta" {
				continue
			}
			if f.Anonymous || depth == 0 || r.IntN(3) > 0 {
				fillRandomWords(r, v.Field(i), depth+1, words)
			}
		}
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			fillRandomWords(r, p.Elem(), depth+1, words)
			v.Set(p)
		}
	case reflect.Slice:
		n := r.IntN(4)
		if n == 0 && r.IntN(2) == 0 {
			return // nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillRandomWords(r, s.Index(i), depth+1, words)
		}
		v.Set(s)
	case reflect.Map:
		n := r.IntN(3)
		if n == 0 && r.IntN(2) == 0 {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), n)
		for range n {
			k := reflect.New(v.Type().Key()).Elem()
			fillRandomWords(r, k, depth+1, words)
			e := reflect.New(v.Type().Elem()).Elem()
			fillRandomWords(r, e, depth+1, words)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(words[r.IntN(len(words))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(r.IntN(5)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(r.IntN(5)))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(r.IntN(5)) / 2)
	}
}
