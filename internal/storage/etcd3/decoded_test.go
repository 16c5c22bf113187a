package etcd3

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"

	"github.com/regis-dev/regis/internal/codec"
)

// The returned object of a write is the written object made into what a
// decode of the stored bytes gives (decoded.go). These tests hold it to
// that: for every built-in kind, filled at random with the values a
// decode changes (empty slices and maps, []byte map values that are nil,
// times with nanoseconds in other zones, quantities in any form,
// RawExtensions holding an Object), and for custom resources with every
// kind of JSON value, the object asDecoded returns is reflect.DeepEqual to
// a fresh decode of its encoding, and what the written object pointed to
// is unchanged.

var quantities = []string{"0", "1", "100m", "0.5", "1.5Gi", "0.1Gi", "1e3", "1E3", "2k", "1000m", "64Mi",
	"128974848", "129e6", "123456789012345678901234567890", "1.000000001", "-1", "5n", "7u", "1024Ki", "0.001"}

func filler(seed int64) *randfill.Filler {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("x", 5*3600+1800), nil}
	when := func(c randfill.Continue) time.Time {
		if c.Intn(8) == 0 {
			return time.Time{}
		}
		t := time.Unix(c.Int63n(4e9)-1e9, c.Int63n(1e9))
		if z := zones[c.Intn(len(zones))]; z != nil {
			t = t.In(z)
		}
		if c.Intn(4) == 0 {
			t = time.Now() // with a monotonic reading
		}
		return t
	}
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(0, 3).MaxDepth(12).Funcs(
		func(q *resource.Quantity, c randfill.Continue) {
			*q = resource.MustParse(quantities[c.Intn(len(quantities))])
			if c.Bool() {
				_ = q.String() // cached, as after an encode
			}
		},
		func(t *metav1.Time, c randfill.Continue) { t.Time = when(c) },
		func(t *metav1.MicroTime, c randfill.Continue) { t.Time = when(c) },
		func(s *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*s = intstr.FromInt32(c.Int31())
			} else {
				*s = intstr.FromString(c.String(5))
			}
		},
		func(r *runtime.RawExtension, c randfill.Continue) {
			switch c.Intn(4) {
			case 0:
			case 1:
				r.Raw = []byte{}
			case 2:
				r.Raw = []byte(`{"apiVersion":"v1","kind":"ConfigMap"}`)
			case 3:
				r.Object = &corev1.ConfigMap{Data: map[string]string{"a": "b"}}
			}
		},
	)
}

// TestAsDecodedEqualsDecodeForEveryBuiltinKind fuzzes every kind of the
// built-in scheme.
func TestAsDecodedEqualsDecodeForEveryBuiltinKind(t *testing.T) {
	sch := codec.Scheme()
	kinds := sch.AllKnownTypes()
	gvks := make([]schema.GroupVersionKind, 0, len(kinds))
	for gvk := range kinds {
		if gvk.Version != runtime.APIVersionInternal {
			gvks = append(gvks, gvk)
		}
	}
	sort.Slice(gvks, func(i, j int) bool { return gvks[i].String() < gvks[j].String() })
	codecs := map[schema.GroupVersion]runtime.Codec{}
	const rounds = 30
	var eligible, ineligible []string
	s := &Store{}
	for i, gvk := range gvks {
		c, ok := codecs[gvk.GroupVersion()]
		if !ok {
			var err error
			if c, err = codec.New("", gvk.GroupVersion()); err != nil {
				t.Fatal(err)
			}
			codecs[gvk.GroupVersion()] = c
		}
		if s.plans.of(kinds[gvk]) == nil {
			ineligible = append(ineligible, gvk.String())
			continue
		}
		f := filler(int64(i))
		declined := false
		for round := range rounds {
			obj, err := sch.New(gvk)
			if err != nil {
				t.Fatal(err)
			}
			f.Fill(obj)
			obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
			data, err := runtime.Encode(c, obj)
			if err != nil {
				continue // a random value that does not encode (a RawExtension's Object)
			}
			before := clone(reflect.ValueOf(obj)).Interface()
			snapshot := reflect.New(reflect.TypeOf(obj).Elem())
			snapshot.Elem().Set(reflect.ValueOf(obj).Elem())

			out, _ := sch.New(gvk)
			if !s.asDecoded(obj, out, data) {
				declined = true // decoded: always right (metav1's kinds have no apiVersion in the envelope)
				break
			}
			want, _ := sch.New(gvk)
			if _, _, err := c.Decode(data, nil, want); err != nil {
				t.Fatalf("%s round %d: %v", gvk, round, err)
			}
			if !reflect.DeepEqual(out, want) {
				t.Fatalf("%s round %d: returned object differs from a decode (-decoded +returned):\n%s", gvk, round,
					cmp.Diff(want, out, cmp.Exporter(func(reflect.Type) bool { return true })))
			}
			if !reflect.DeepEqual(snapshot.Interface(), before) {
				t.Fatalf("%s round %d: what the written object points to was changed (-before +after):\n%s", gvk, round,
					cmp.Diff(before, snapshot.Interface(), cmp.Exporter(func(reflect.Type) bool { return true })))
			}
		}
		if declined {
			ineligible = append(ineligible, gvk.String())
		} else {
			eligible = append(eligible, gvk.Kind)
		}
	}
	var objects []string // kinds of objects, not lists or options
	for _, k := range ineligible {
		if !strings.HasSuffix(k, "List") && !strings.HasSuffix(k, "=DeleteOptions") && !strings.HasSuffix(k, "=WatchEvent") {
			objects = append(objects, k)
		}
	}
	t.Logf("%d kinds as decoded, %d rounds each; %d decoded as before, of which objects: %v", len(eligible), rounds, len(ineligible), objects)
	for _, must := range []string{"Pod", "Secret", "ConfigMap", "Deployment", "ReplicaSet", "Service", "Endpoints", "EndpointSlice",
		"Node", "Event", "Lease", "ControllerRevision", "Job", "ServiceAccount", "Namespace", "APIService"} {
		if !slices.Contains(eligible, must) {
			t.Errorf("%s is not returned as decoded", must)
		}
	}
}

// TestAsDecodedPodCases covers by name what a decode changes in a pod.
func TestAsDecodedPodCases(t *testing.T) {
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	nanos := metav1.NewTime(time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC))
	micro := metav1.NewMicroTime(time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.FixedZone("x", 3600)))
	shared := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000m")} // not canonical
	sharedArgs := []string{}
	cases := map[string]func(p *corev1.Pod){
		"empty slices and maps": func(p *corev1.Pod) {
			p.Labels, p.Annotations, p.Finalizers = map[string]string{}, map[string]string{}, []string{}
			p.Spec.Containers[0].Args, p.Spec.Containers[0].Env = []string{}, []corev1.EnvVar{}
			p.Spec.Tolerations, p.Spec.NodeSelector = []corev1.Toleration{}, map[string]string{}
		},
		"time with nanoseconds in UTC": func(p *corev1.Pod) {
			p.CreationTimestamp = nanos
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, LastTransitionTime: nanos}}
			p.ManagedFields[0].Time = &nanos
		},
		"non-canonical quantities in a shared map": func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = shared
			p.Spec.Overhead = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("0.1Gi")}
		},
		"empty slice shared with another object": func(p *corev1.Pod) { p.Spec.Containers[0].Command = sharedArgs },
		"deletion timestamp and micro time": func(p *corev1.Pod) {
			p.DeletionTimestamp = &nanos
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "g"}}
			_ = micro
		},
		"empty non-nil pointers": func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{}
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
		},
		"empty bytes and strings": func(p *corev1.Pod) {
			p.ManagedFields[0].FieldsV1 = &metav1.FieldsV1{Raw: []byte{}}
			p.Spec.Containers[0].Args = []string{"", ""}
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			p := benchPodFor(t)
			change(p)
			checkAsDecoded(t, c, p, &corev1.Pod{}, func() runtime.Object { return &corev1.Pod{} })
		})
	}
	if got := shared[corev1.ResourceCPU]; got.String() != "1" || len(sharedArgs) != 0 || sharedArgs == nil {
		t.Errorf("shared values were written: %v %#v", shared, sharedArgs)
	}
}

// TestAsDecodedSecretsAndEvents covers the []byte map values a decode
// makes non-nil, and MicroTime.
func TestAsDecodedSecretsAndEvents(t *testing.T) {
	c, _ := codec.New("", corev1.SchemeGroupVersion)
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "n"},
		Data: map[string][]byte{"nil": nil, "empty": {}, "x": []byte("y")}, StringData: map[string]string{"a": ""}}
	checkAsDecoded(t, c, sec, &corev1.Secret{}, func() runtime.Object { return &corev1.Secret{} })
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "n"},
		EventTime: metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600))),
		Series:    &corev1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(time.Now())}}
	checkAsDecoded(t, c, ev, &corev1.Event{}, func() runtime.Object { return &corev1.Event{} })
}

func benchPodFor(t *testing.T) *corev1.Pod {
	t.Helper()
	yes := true
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "n", UID: "u", CreationTimestamp: now,
			Labels:          map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "x", Controller: &yes}},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
				Time: &now, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{}}`)}}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}}}}},
	}
}

// checkAsDecoded encodes obj, and holds asDecoded's answer to a decode.
func checkAsDecoded(t *testing.T, c runtime.Codec, obj, out runtime.Object, fresh func() runtime.Object) {
	t.Helper()
	data, err := runtime.Encode(c, obj)
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{}
	if !s.asDecoded(obj, out, data) {
		t.Fatalf("%T: not as decoded", obj)
	}
	want := fresh()
	if _, _, err := c.Decode(data, nil, want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("returned object differs from a decode (-decoded +returned):\n%s",
			cmp.Diff(want, out, cmp.Exporter(func(reflect.Type) bool { return true })))
	}
}

// TestAsDecodedCustomResources holds unstructured objects to the decode
// of their JSON, with every kind of JSON value.
func TestAsDecodedCustomResources(t *testing.T) {
	c := codec.NewCustom(schema.GroupVersion{Group: "example.com", Version: "v1"})
	sharedList := []any{1.0, "a"}
	sharedMap := map[string]any{"f": 2.0}
	values := []any{nil, true, false, int64(0), int64(-7), int64(math.MaxInt64), 1.0, -0.0, 1.5, 1e20, 1e21, 9.3e18, -9.223372036854775808e18,
		9.223372036854775808e18, 1e-7, 5e-324, math.MaxFloat64, "", "ü", "<&>", []any{}, []any(nil), map[string]any{},
		map[string]any(nil), []any{1.0, []any{2.0}, map[string]any{"x": 3.0}}, sharedList, sharedMap}
	rng := rand.New(rand.NewSource(1))
	for i := range 300 {
		spec := map[string]any{}
		for j := range rng.Intn(8) {
			spec[fmt.Sprint("k", j)] = values[rng.Intn(len(values))]
		}
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": []string{"example.com/v2", "example.com/v1", ""}[i%3], "kind": "Widget",
			"metadata": map[string]any{"name": fmt.Sprint("w", i), "generation": int64(1), "labels": map[string]any{}},
			"spec":     spec,
		}}
		if i%5 == 0 {
			delete(obj.Object, "apiVersion")
		}
		checkAsDecoded(t, c, obj, &unstructured.Unstructured{}, func() runtime.Object { return &unstructured.Unstructured{} })
	}
	if !reflect.DeepEqual(sharedList, []any{1.0, "a"}) || !reflect.DeepEqual(sharedMap, map[string]any{"f": 2.0}) {
		t.Errorf("shared values were written: %v %v", sharedList, sharedMap)
	}

	// Values whose round trip asDecoded does not know are decoded.
	s := &Store{}
	for name, v := range map[string]any{"invalid UTF-8": "\xff", "an int": 3, "a []string": []string{"a"}, "a struct": struct{}{}} {
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "spec": map[string]any{"v": v}}}
		data, err := runtime.Encode(c, obj)
		if err != nil {
			t.Fatal(err)
		}
		if s.asDecoded(obj, &unstructured.Unstructured{}, data) {
			t.Errorf("%s: as decoded, want a decode", name)
		}
	}
	noKind := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1"}}
	data, _ := runtime.Encode(c, noKind)
	if s.asDecoded(noKind, &unstructured.Unstructured{}, data) {
		t.Error("an object without a kind, which does not decode: as decoded")
	}
}

// clone deep-copies v, keeping nil and empty apart (as DeepCopy does not
// always), through exported fields.
func clone(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(clone(v.Elem()))
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(clone(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			c.SetMapIndex(it.Key(), clone(it.Value()))
		}
		return c
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(clone(v.Elem()))
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				c.Field(i).Set(clone(v.Field(i)))
			}
		}
		return c
	}
	return v
}

// BenchmarkReturnedObject is the CPU of the object a create returns:
// decoding the stored bytes (as before) or the written pod made as decoded.
//
//	go test ./internal/storage/etcd3 -run '^$' -bench BenchmarkReturnedObject -count 5
func BenchmarkReturnedObject(b *testing.B) {
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		b.Fatal(err)
	}
	data, err := runtime.Encode(c, CreatedPod("ns", "p"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.Decode(data, nil, &corev1.Pod{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AsDecoded", func(b *testing.B) {
		b.ReportAllocs()
		s := &Store{}
		for b.Loop() {
			b.StopTimer()
			p := CreatedPod("ns", "p")
			b.StartTimer()
			if !s.asDecoded(p, &corev1.Pod{}, data) {
				b.Fatal("decoded")
			}
		}
	})

	// A custom resource of the same content (the pod as unstructured).
	cr := func() *unstructured.Unstructured {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(CreatedPod("ns", "p"))
		if err != nil {
			b.Fatal(err)
		}
		m["apiVersion"], m["kind"] = "example.com/v1", "Widget"
		return &unstructured.Unstructured{Object: m}
	}
	cc := codec.NewCustom(schema.GroupVersion{Group: "example.com", Version: "v1"})
	crData, err := runtime.Encode(cc, cr())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("DecodeCustomResource", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := cc.Decode(crData, nil, &unstructured.Unstructured{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AsDecodedCustomResource", func(b *testing.B) {
		b.ReportAllocs()
		s := &Store{}
		for b.Loop() {
			b.StopTimer()
			u := cr()
			b.StartTimer()
			if !s.asDecoded(u, &unstructured.Unstructured{}, crData) {
				b.Fatal("decoded")
			}
		}
	})
}
