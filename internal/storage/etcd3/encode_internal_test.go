package etcd3

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
)

// wrappedCodec hides the codec's EncodeWithAllocator, as a codec that
// does not pass an allocator on.
type wrappedCodec struct{ runtime.Codec }

// The store's encode gives runtime.Encode's bytes, in memory of their own
// (the protobuf serializer's slice, or one copy), for every storage format
// and for codecs with and without an allocator.
func TestEncodeIsRuntimeEncode(t *testing.T) {
	for _, mt := range []string{"application/vnd.kubernetes.protobuf", "application/json", "application/yaml", "application/cbor"} {
		c, err := codec.New(mt, corev1.SchemeGroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		for _, cdc := range []runtime.Codec{c, wrappedCodec{c}} {
			s := &Store{codec: cdc}
			var prev []byte
			for i, name := range []string{"a", "bb", "a-longer-name-than-the-first"} {
				p := CreatedPod("ns", name)
				want, err := runtime.Encode(cdc, p.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.encode(p)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s %T pod %d: encode gave\n%q\nwant\n%q", mt, cdc, i, got, want)
				}
				if p.APIVersion != "" || p.Kind != "" {
					t.Errorf("%s: encode left the type meta set: %v", mt, p.TypeMeta)
				}
				if prev != nil {
					before := bytes.Clone(prev)
					got[0]++
					if !bytes.Equal(prev, before) {
						t.Fatalf("%s %T: two encodes share memory", mt, cdc)
					}
				}
				prev = got
			}
		}
	}
}

func TestEncodeCustomResource(t *testing.T) {
	gv := schema.GroupVersion{Group: "example.com", Version: "v1"}
	c := codec.NewCustom(gv)
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1beta1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "namespace": "ns"}, "spec": map[string]any{"size": int64(3)}}}
	want, err := runtime.Encode(c, u)
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{codec: c}
	for range 2 {
		got, err := s.encode(u)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encode gave %q, want %q", got, want)
		}
	}
}

func BenchmarkEncodePod(b *testing.B) {
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		b.Fatal(err)
	}
	p := CreatedPod("ns", "p")
	b.Run("runtime.Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := runtime.Encode(c, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		s := &Store{codec: c}
		for b.Loop() {
			if _, err := s.encode(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
