package cacheable

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/regis-dev/regis/internal/codec"
)

func testPod() *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", ResourceVersion: "7", Labels: map[string]string{"a": "b"}},
		Spec:       corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "c", Image: "i"}}},
	}
}

// countingEncoder is an encoder that honours CacheableObject, as
// apimachinery's serializers do, and counts real encodings.
type countingEncoder struct {
	inner runtime.Encoder
	n     atomic.Int32
}

func (e *countingEncoder) Identifier() runtime.Identifier { return "counting-" + e.inner.Identifier() }

func (e *countingEncoder) Encode(obj runtime.Object, w io.Writer) error {
	if co, ok := obj.(runtime.CacheableObject); ok {
		return co.CacheEncode(e.Identifier(), e.doEncode, w)
	}
	return e.doEncode(obj, w)
}

func (e *countingEncoder) doEncode(obj runtime.Object, w io.Writer) error {
	e.n.Add(1)
	return e.inner.Encode(obj, w)
}

func TestObjectEncodesOncePerFormat(t *testing.T) {
	scheme := codec.Scheme()
	jsonS := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{})
	protoS := protobuf.NewSerializer(scheme, scheme)
	for name, s := range map[string]runtime.Encoder{"json": jsonS, "protobuf": protoS} {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			if err := s.Encode(testPod(), &want); err != nil {
				t.Fatal(err)
			}
			co, err := New(testPod())
			if err != nil {
				t.Fatal(err)
			}
			enc := &countingEncoder{inner: s}
			var wg sync.WaitGroup
			for range 1000 {
				wg.Go(func() {
					var got bytes.Buffer
					if err := enc.Encode(co, &got); err != nil {
						t.Error(err)
					}
					if !bytes.Equal(got.Bytes(), want.Bytes()) {
						t.Error("cached encoding differs from the object's")
					}
				})
			}
			wg.Wait()
			if n := enc.n.Load(); n != 1 {
				t.Fatalf("encoded %d times for 1000 watchers, want once", n)
			}
			// apimachinery's own serializers take the cached path too.
			var direct bytes.Buffer
			if err := s.Encode(co, &direct); err != nil || !bytes.Equal(direct.Bytes(), want.Bytes()) {
				t.Fatalf("serializer over Object: %v", err)
			}
			if co.CachedBytes() != 2*want.Len() {
				t.Fatalf("cached %d bytes, want %d", co.CachedBytes(), 2*want.Len())
			}
		})
	}
}

func TestObjectIsCopyOnWrite(t *testing.T) {
	orig := testPod()
	var accounted atomic.Int64
	co, _ := NewCounted(orig, func(n int64) { accounted.Add(n) })
	enc := &countingEncoder{inner: json.NewSerializerWithOptions(json.DefaultMetaFactory, codec.Scheme(), codec.Scheme(), json.SerializerOptions{})}
	var b bytes.Buffer
	if err := enc.Encode(co, &b); err != nil {
		t.Fatal(err)
	}
	if accounted.Load() != int64(b.Len()) {
		t.Fatalf("accounted %d, want %d", accounted.Load(), b.Len())
	}

	co.SetResourceVersion("7") // no change: nothing happens
	if co.Object() != runtime.Object(orig) || co.CachedBytes() == 0 {
		t.Fatal("a no-op setter copied the object or dropped the encodings")
	}
	co.SetResourceVersion("8")
	if orig.ResourceVersion != "7" || co.GetResourceVersion() != "8" {
		t.Fatalf("setter changed the shared object (%s) or not the copy (%s)", orig.ResourceVersion, co.GetResourceVersion())
	}
	if co.CachedBytes() != 0 || accounted.Load() != 0 {
		t.Fatalf("after a change: %d bytes cached, %d accounted; want 0", co.CachedBytes(), accounted.Load())
	}
	b.Reset()
	_ = enc.Encode(co, &b)
	if enc.n.Load() != 2 || !bytes.Contains(b.Bytes(), []byte(`"resourceVersion":"8"`)) {
		t.Fatalf("re-encoding after a change: %d encodings, %s", enc.n.Load(), b.Bytes())
	}
	co.Retire()
	if accounted.Load() != 0 {
		t.Fatalf("retired, %d bytes still accounted", accounted.Load())
	}
	if got := co.GetObject().(*corev1.Pod); got == orig || got.ResourceVersion != "8" {
		t.Fatal("GetObject is not a copy of the current object")
	}
}

func TestUnwrap(t *testing.T) {
	pod := testPod()
	if got := Unwrap(pod); got != runtime.Object(pod) {
		t.Fatal("Unwrap changed a plain object")
	}
	co, _ := New(pod)
	got, ok := Unwrap(co).(*corev1.Pod)
	if !ok || got == pod || got.Name != pod.Name {
		t.Fatalf("Unwrap of an Object: %T, want a copy of the pod", Unwrap(co))
	}
}
