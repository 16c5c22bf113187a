package cacheable

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
)

// The stored bytes of an object (encoded by the storage codec without a
// resourceVersion) with WithResourceVersion's resourceVersion are the
// bytes Pack makes of the object with it, for objects of several kinds
// and metadata, and resourceVersions whose lengths move the varints.
func TestWithResourceVersionIsPack(t *testing.T) {
	grace := int64(5)
	objs := []metaObject{
		fullPod(),
		testPod(),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare"}},
		&corev1.Pod{},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u", Generation: 3, DeletionGracePeriodSeconds: &grace,
			Labels: map[string]string{"a": strings.Repeat("x", 200)}}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}, Data: map[string]string{"k": strings.Repeat("v", 20000)}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", Generation: 1}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}},
	}
	for _, gv := range []schema.GroupVersion{corev1.SchemeGroupVersion, appsv1.SchemeGroupVersion} {
		c, err := codec.New("", gv)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range objs {
			if o.GetObjectKind().GroupVersionKind().Version == "" {
				gvks, _, err := codec.Scheme().ObjectKinds(o)
				if err != nil {
					t.Fatal(err)
				}
				o.GetObjectKind().SetGroupVersionKind(gvks[0])
			}
			if gv.Group != o.GetObjectKind().GroupVersionKind().Group {
				continue
			}
			stored := o.DeepCopyObject().(metaObject)
			stored.SetResourceVersion("")
			data, err := runtime.Encode(c, stored)
			if err != nil {
				t.Fatal(err)
			}
			for _, rv := range []string{"", "7", "12345", strings.Repeat("9", 130), strings.Repeat("1", 20000)} {
				t.Run(fmt.Sprintf("%d rv %d", i, len(rv)), func(t *testing.T) {
					want := o.DeepCopyObject().(metaObject)
					want.SetResourceVersion(rv)
					wantBytes, ok := pack(want)
					if !ok {
						t.Fatal("pack refused")
					}
					got, ok := WithResourceVersion(data, rv)
					if !ok || !bytes.Equal(got, wantBytes) {
						t.Fatalf("WithResourceVersion: %v\n got %q\nwant %q", ok, got, wantBytes)
					}
					co, err := NewEncoded(want, got)
					if err != nil {
						t.Fatal(err)
					}
					if n, ok := co.EncodedSize(); !ok || n != int64(want.(message).Size()) {
						t.Errorf("EncodedSize %d %v, want %d", n, ok, want.(message).Size())
					}
				})
			}
		}
	}
}

// Bytes that are not such an encoding are refused, never misread.
func TestWithResourceVersionRefuses(t *testing.T) {
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	data, err := runtime.Encode(c, fullPod())
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		// A cut within the object is refused; one after it (in the
		// envelope's trailing fields) still holds the whole object.
		if got, ok := WithResourceVersion(data[:n], "5"); ok {
			obj, ok := unpack(got, reflect.TypeOf(&corev1.Pod{}))
			if !ok || obj.GetResourceVersion() != "5" || obj.GetName() != fullPod().Name {
				t.Fatalf("%d bytes of %d: accepted as %v", n, len(data), obj)
			}
		}
	}
	jsonC, err := codec.New("application/json", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := runtime.Encode(jsonC, fullPod())
	if _, ok := WithResourceVersion(j, "5"); ok {
		t.Fatal("JSON accepted")
	}
}

// Pack keeps the bytes NewEncoded was given, and the object decodes from
// them as it was.
func TestNewEncodedPack(t *testing.T) {
	p := fullPod()
	p.ResourceVersion = "42"
	want, _ := pack(p)
	given := bytes.Clone(want)
	co, err := NewEncoded(p, given)
	if err != nil {
		t.Fatal(err)
	}
	co.Pack()
	if !co.isPacked(given) {
		t.Fatal("Pack did not keep the given bytes")
	}
	if got := co.GetObject(); got.(*corev1.Pod).ResourceVersion != "42" || !bytes.Equal(mustPack(t, got.(metaObject)), want) {
		t.Fatalf("unpacked %#v", got)
	}
}

func mustPack(t *testing.T, o metaObject) []byte {
	t.Helper()
	b, ok := pack(o)
	if !ok {
		t.Fatal("pack refused")
	}
	return b
}
