package cacheable

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/codec"
)

// FuzzWithResourceVersion: whatever bytes a store hands over (etcd holds
// what any writer put there), WithResourceVersion and envelopeRaw never
// panic, and bytes they accept as a pod's encoding decode to a pod with
// the resourceVersion set, its other metadata as the input's.
func FuzzWithResourceVersion(f *testing.F) {
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []*corev1.Pod{fullPod(), testPod(), {}} {
		data, err := runtime.Encode(c, p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "17")
		f.Add(data[:len(data)/2], "")
	}
	f.Add([]byte("k8s\x00\x12\x02\x0a\x00"), "1")
	podType := reflect.TypeOf(&corev1.Pod{})
	f.Fuzz(func(t *testing.T, data []byte, rv string) {
		envelopeRaw(data)
		got, ok := WithResourceVersion(data, rv)
		if !ok {
			return
		}
		in, inOK := unpack(data, podType)
		out, outOK := unpack(got, podType)
		if inOK != outOK {
			t.Fatalf("the input decodes %v, the output %v", inOK, outOK)
		}
		if !outOK {
			return
		}
		if out.GetResourceVersion() != rv || out.GetName() != in.GetName() || out.GetNamespace() != in.GetNamespace() ||
			out.GetUID() != in.GetUID() || !reflect.DeepEqual(out.GetLabels(), in.GetLabels()) {
			t.Fatalf("decoded %q/%q rv %q, want %q/%q rv %q", out.GetNamespace(), out.GetName(), out.GetResourceVersion(),
				in.GetNamespace(), in.GetName(), rv)
		}
	})
}
