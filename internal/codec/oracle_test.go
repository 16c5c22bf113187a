package codec

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// upstreamCodec is the oracle: client-go's scheme and codec factory (built
// independently of ours), with the serializer picked by media type and
// wrapped as kube-apiserver's NewStorageCodec wraps it. NewStorageCodec itself
// (k8s.io/apiserver/pkg/server/storage) cannot be imported here: it pulls in
// k8s.io/component-base/tracing, whose otelhttp dependency is not in go.sum.
func upstreamCodec(t *testing.T, mediaType string, gv schema.GroupVersion) runtime.Codec {
	t.Helper()
	f := serializer.NewCodecFactory(clientgoscheme.Scheme, serializer.WithSerializer(cbor.NewSerializerInfo))
	info, ok := runtime.SerializerInfoForMediaType(f.SupportedMediaTypes(), mediaType)
	if !ok {
		t.Fatalf("client-go has no serializer for %q", mediaType)
	}
	return f.CodecForVersions(info.Serializer, f.UniversalDeserializer(), gv, gv)
}

// TestSameBytesAsUpstream: for every media type, our codec writes the bytes
// the oracle writes, and each reads the other's.
func TestSameBytesAsUpstream(t *testing.T) {
	objects := []runtime.Object{
		&corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "cm1", Namespace: "default", UID: "u1", Labels: map[string]string{"a": "b"}},
			Data:       map[string]string{"a": "<b>", "z": "y"},
			BinaryData: map[string][]byte{"bin": {0, 1, 2}},
		},
		testPod(),
	}
	for _, mt := range MediaTypes() {
		for _, obj := range objects {
			ours, theirs := newCodec(t, mt, coreV1), upstreamCodec(t, mt, coreV1)
			got, want := encode(t, ours, obj), encode(t, theirs, obj)
			if !bytes.Equal(got, want) {
				t.Errorf("%s %T: bytes differ from upstream:\n got %q\nwant %q", mt, obj, got, want)
			}
			fromUs, err := runtime.Decode(theirs, got)
			if err != nil {
				t.Fatalf("%s %T: upstream cannot decode our bytes: %v", mt, obj, err)
			}
			fromThem, err := runtime.Decode(ours, want)
			if err != nil {
				t.Fatalf("%s %T: we cannot decode upstream's bytes: %v", mt, obj, err)
			}
			if !apiequality.Semantic.DeepEqual(fromUs, fromThem) {
				t.Errorf("%s %T: decodings differ (-upstream +ours):\n%s", mt, obj, cmp.Diff(fromUs, fromThem))
			}
		}
	}
}

// TestFixturesUpstreamAgrees runs the fixtures through both codecs.
func TestFixturesUpstreamAgrees(t *testing.T) {
	for _, f := range loadFixtures(t) {
		_, gvk, err := Deserializer().Decode(f.bin, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, mt := range MediaTypes() {
			ours, theirs := newCodec(t, mt, gvk.GroupVersion()), upstreamCodec(t, mt, gvk.GroupVersion())
			obj, err := runtime.Decode(theirs, f.bin)
			if err != nil {
				t.Fatalf("%s: upstream decode: %v", f.name, err)
			}
			if got, want := encode(t, ours, obj), encode(t, theirs, obj); !bytes.Equal(got, want) {
				t.Errorf("%s as %s: bytes differ from upstream:\n got %q\nwant %q", f.name, mt, got, want)
			}
		}
	}
}
