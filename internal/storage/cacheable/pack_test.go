package cacheable

import (
	"bytes"
	"reflect"
	"sync"
	"testing"
	"time"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/regis-dev/regis/internal/codec"
)

// fullPod is a pod with managed fields, quantities, times and pointers.
func fullPod() *corev1.Pod {
	ts := metav1.Date(2026, 1, 1, 0, 0, 0, 0, time.Local)
	p := testPod()
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "m", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
		Time: &ts, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:nodeName":{}}}`)}}}
	p.CreationTimestamp = ts
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
	grace := int64(30)
	p.Spec.TerminationGracePeriodSeconds = &grace
	p.Status.Phase = corev1.PodRunning
	return p
}

func TestPackIsTheProtobufEncoding(t *testing.T) {
	scheme := codec.Scheme()
	var want bytes.Buffer
	if err := protobuf.NewSerializer(scheme, scheme).Encode(fullPod(), &want); err != nil {
		t.Fatal(err)
	}
	got, ok := pack(fullPod())
	if !ok || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("pack: %v, %d bytes; the protobuf serializer writes %d", ok, len(got), want.Len())
	}
	obj, ok := unpack(got, reflect.TypeOf(&corev1.Pod{}))
	if !ok || !reflect.DeepEqual(obj, runtime.Object(fullPod())) {
		t.Fatalf("unpack: %v, %#v", ok, obj)
	}
}

func TestPackedObject(t *testing.T) {
	scheme := codec.Scheme()
	jsonS := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{})
	protoS := protobuf.NewSerializer(scheme, scheme)
	co, _ := New(fullPod())
	pj, pp := &countingEncoder{inner: jsonS}, &countingEncoder{inner: protoS}
	var wantJSON, wantProto bytes.Buffer
	if err := pj.Encode(co, &wantJSON); err != nil {
		t.Fatal(err)
	}
	if err := pp.Encode(co, &wantProto); err != nil {
		t.Fatal(err)
	}
	if !co.Pack() || !co.Packed() {
		t.Fatal("a pod did not pack")
	}
	// The packed bytes are the cached protobuf serialization's.
	set := *co.encodings.Load()
	shared := false
	for _, e := range set {
		if len(e.raw) > 0 && unsafe.SliceData(e.raw) == unsafe.SliceData(co.packed) {
			shared = true
		}
	}
	if !shared {
		t.Fatal("packed bytes are a second copy of the protobuf serialization")
	}
	// Cached serializations are still served; a new format decodes.
	var b bytes.Buffer
	if err := pj.Encode(co, &b); err != nil || !bytes.Equal(b.Bytes(), wantJSON.Bytes()) || pj.n.Load() != 1 {
		t.Fatalf("json of a packed object: %v, %d encodings", err, pj.n.Load())
	}
	other := &countingEncoder{inner: json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Pretty: true})}
	b.Reset()
	if err := other.Encode(co, &b); err != nil || !bytes.Contains(b.Bytes(), []byte(`"nodeName": "n"`)) {
		t.Fatalf("new format of a packed object: %v, %s", err, b.Bytes())
	}
	// Reads decode: equal to the original, and private.
	if got := co.GetObject(); !reflect.DeepEqual(got, runtime.Object(fullPod())) {
		t.Fatalf("GetObject of a packed object: %#v", got)
	}
	if co.Object() == co.Object() {
		t.Fatal("Object of a packed object is shared")
	}
	if co.GetName() != "p" || co.GetLabels()["a"] != "b" || co.GetObjectKind().GroupVersionKind().Kind != "Pod" {
		t.Fatal("getters of a packed object")
	}
	if cp := co.DeepCopyObject().(*Object); !reflect.DeepEqual(cp.GetObject(), runtime.Object(fullPod())) {
		t.Fatal("DeepCopyObject of a packed object")
	}
	// A new serialization equal to the packed bytes shares them.
	co2, _ := New(fullPod())
	co2.Pack()
	b.Reset()
	if err := (&countingEncoder{inner: protoS}).Encode(co2, &b); err != nil || !bytes.Equal(b.Bytes(), wantProto.Bytes()) {
		t.Fatalf("protobuf of a packed object: %v", err)
	}
	for _, e := range *co2.encodings.Load() {
		if unsafe.SliceData(e.raw) != unsafe.SliceData(co2.packed) {
			t.Fatal("the protobuf serialization of a packed object is a second copy of its bytes")
		}
	}
	// A setter unpacks.
	co.SetResourceVersion("9")
	if co.Packed() || co.GetResourceVersion() != "9" || co.GetName() != "p" {
		t.Fatal("setter on a packed object")
	}
}

func TestUnstructuredDoesNotPack(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Thing", "metadata": map[string]any{"name": "x"}}}
	co, _ := New(u)
	if co.Pack() || co.Packed() || co.GetName() != "x" {
		t.Fatal("an unstructured object packed")
	}
}

// Readers and encoders may use an object while the cache packs it.
func TestPackWhileRead(t *testing.T) {
	scheme := codec.Scheme()
	protoS := protobuf.NewSerializer(scheme, scheme)
	var want bytes.Buffer
	if err := protoS.Encode(fullPod(), &want); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		co, _ := New(fullPod())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				var b bytes.Buffer
				if err := (&countingEncoder{inner: protoS}).Encode(co, &b); err != nil || !bytes.Equal(b.Bytes(), want.Bytes()) {
					t.Error("encoding while packed differs")
				}
				if co.GetName() != "p" || co.GetObject().(*corev1.Pod).Spec.NodeName != "n" {
					t.Error("read while packed differs")
				}
				if i == 0 {
					co.Pack()
				}
			})
		}
		wg.Wait()
	}
}

// TestPackedMetadata: a packed object's metadata getters answer as the
// object's, from the metadata Pack kept; managedFields and the kind too.
func TestPackedMetadata(t *testing.T) {
	p := fullPod()
	p.Labels = map[string]string{"app": "a"}
	p.Annotations = map[string]string{"note": "n"}
	p.Finalizers = []string{"f"}
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "u1"}}
	p.ResourceVersion, p.UID, p.Generation = "42", "uid", 3
	del := metav1.Date(2026, 1, 2, 0, 0, 0, 0, time.Local)
	p.DeletionTimestamp = &del
	p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	want := p.DeepCopy()
	co, _ := NewCounted(p, func(int64) {}) // an object of a cache's state
	if !co.Pack() || !co.Packed() {
		t.Fatal("not packed")
	}
	if co.meta == nil {
		t.Fatal("no metadata kept")
	}
	if co.meta.ManagedFields != nil {
		t.Error("the kept metadata holds managedFields")
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"namespace", co.GetNamespace(), want.Namespace},
		{"name", co.GetName(), want.Name},
		{"uid", co.GetUID(), want.UID},
		{"resourceVersion", co.GetResourceVersion(), want.ResourceVersion},
		{"generation", co.GetGeneration(), want.Generation},
		{"creationTimestamp", co.GetCreationTimestamp(), want.CreationTimestamp},
		{"deletionTimestamp", co.GetDeletionTimestamp(), want.DeletionTimestamp},
		{"labels", co.GetLabels(), want.Labels},
		{"annotations", co.GetAnnotations(), want.Annotations},
		{"finalizers", co.GetFinalizers(), want.Finalizers},
		{"ownerReferences", co.GetOwnerReferences(), want.OwnerReferences},
		{"managedFields", co.GetManagedFields(), want.ManagedFields},
		{"kind", co.GetObjectKind().GroupVersionKind(), want.GroupVersionKind()},
		{"object", co.GetObject(), runtime.Object(want)},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	// Retired (only in the history now), it keeps no metadata; its
	// getters decode.
	co.Retire()
	if co.meta != nil || !reflect.DeepEqual(co.GetOwnerReferences(), want.OwnerReferences) || co.GetName() != want.Name {
		t.Errorf("retired: metadata kept %v, owners %v, name %q", co.meta != nil, co.GetOwnerReferences(), co.GetName())
	}
	// The kind handed out is a copy: setting it changes nothing kept.
	co.GetObjectKind().SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Other"))
	if k := co.GetObjectKind().GroupVersionKind().Kind; k != "Pod" {
		t.Errorf("kind after a set on a copy: %s", k)
	}
	// A setter unpacks the object.
	co.SetLabels(map[string]string{"app": "b"})
	if co.Packed() || co.GetLabels()["app"] != "b" {
		t.Errorf("after SetLabels: packed %v, labels %v", co.Packed(), co.GetLabels())
	}
}

// TestPackedKeepsOnlyItsEncoding: a packed object keeps its protobuf
// serialization (its packed bytes) and encodes JSON anew each time,
// without keeping it.
func TestPackedKeepsOnlyItsEncoding(t *testing.T) {
	scheme := codec.Scheme()
	jsonS := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{})
	protoS := protobuf.NewSerializer(scheme, scheme)
	p := fullPod()
	p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	var wantJSON, wantProto bytes.Buffer
	if err := jsonS.Encode(p.DeepCopy(), &wantJSON); err != nil {
		t.Fatal(err)
	}
	if err := protoS.Encode(p.DeepCopy(), &wantProto); err != nil {
		t.Fatal(err)
	}
	co, _ := New(p)
	if !co.Pack() {
		t.Fatal("not packed")
	}
	pj, pp := &countingEncoder{inner: jsonS}, &countingEncoder{inner: protoS}
	for range 3 {
		var gotJSON, gotProto bytes.Buffer
		if err := pj.Encode(co, &gotJSON); err != nil {
			t.Fatal(err)
		}
		if err := pp.Encode(co, &gotProto); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotJSON.Bytes(), wantJSON.Bytes()) || !bytes.Equal(gotProto.Bytes(), wantProto.Bytes()) {
			t.Fatalf("encodings differ:\n%s\n%s", gotJSON.Bytes(), wantJSON.Bytes())
		}
	}
	if n := pj.n.Load(); n != 3 {
		t.Errorf("JSON encoded %d times, want 3 (not kept)", n)
	}
	if n := pp.n.Load(); n != 1 {
		t.Errorf("protobuf encoded %d times, want 1 (kept: the packed bytes)", n)
	}
	if got := co.CachedBytes(); got != wantProto.Len() {
		t.Errorf("cached %d bytes, want the protobuf encoding's %d", got, wantProto.Len())
	}
}
