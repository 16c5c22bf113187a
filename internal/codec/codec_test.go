package codec

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var coreV1 = schema.GroupVersion{Version: "v1"}

// testPod is a pod with the field kinds that serializers treat specially:
// times, quantities, int-or-strings, raw managed fields, maps and pointers.
func testPod() *corev1.Pod {
	created := metav1.Date(2026, 11, 24, 23, 24, 56, 0, time.UTC)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              "pod1",
			Namespace:         "fx",
			UID:               "57c00e59-cb6b-4b1e-a0f4-3e3f4b1d2a10",
			Generation:        1,
			CreationTimestamp: created,
			Labels:            map[string]string{"app": "web"},
			Annotations:       map[string]string{"html": "<b>&</b>"},
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager:    "kubectl",
				Operation:  metav1.ManagedFieldsOperationUpdate,
				APIVersion: "v1",
				Time:       &created,
				FieldsType: "FieldsV1",
				FieldsV1:   &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`)},
			}},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:    "c",
				Image:   "busybox",
				Command: []string{"sleep", "3600"},
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.1")},
				},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")},
				}},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
			}},
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			RestartPolicy:                 corev1.RestartPolicyAlways,
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

func newCodec(t testing.TB, mediaType string, gv schema.GroupVersion) runtime.Codec {
	t.Helper()
	c, err := New(mediaType, gv)
	if err != nil {
		t.Fatalf("New(%q, %v): %v", mediaType, gv, err)
	}
	return c
}

// TestRoundTrip encodes a pod with each media type, checks the format's
// signature, and decodes it back, into nil and into a *corev1.Pod.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		mediaType string
		prefix    []byte
		suffix    []byte
	}{
		{mediaType: MediaTypeProtobuf, prefix: []byte("k8s\x00\x0a\x09\x0a\x02v1\x12\x03Pod\x12"), suffix: []byte{0x1a, 0x00, 0x22, 0x00}},
		{mediaType: MediaTypeJSON, prefix: []byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"pod1",`), suffix: []byte("}\n")},
		{mediaType: MediaTypeYAML, prefix: []byte("apiVersion: v1\nkind: Pod\nmetadata:\n"), suffix: []byte("\n")},
		{mediaType: MediaTypeCBOR, prefix: []byte{0xd9, 0xd9, 0xf7}},
	}
	for _, tt := range tests {
		t.Run(tt.mediaType, func(t *testing.T) {
			c := newCodec(t, tt.mediaType, coreV1)
			want := testPod()
			data := encode(t, c, want)
			if !bytes.HasPrefix(data, tt.prefix) {
				t.Errorf("encoding starts with %q, want %q", head(data), tt.prefix)
			}
			if !bytes.HasSuffix(data, tt.suffix) {
				t.Errorf("encoding ends with %q, want %q", data[max(0, len(data)-8):], tt.suffix)
			}
			if got := DetectMediaType(data); got != tt.mediaType {
				t.Errorf("DetectMediaType = %q, want %q", got, tt.mediaType)
			}
			if !want.GetObjectKind().GroupVersionKind().Empty() {
				t.Errorf("Encode left type meta %v on the object", want.GetObjectKind().GroupVersionKind())
			}
			want.APIVersion, want.Kind = "v1", "Pod" // decoded objects carry their type

			got, err := runtime.Decode(c, data)
			if err != nil {
				t.Fatalf("decode (into nil): %v", err)
			}
			if !apiequality.Semantic.DeepEqual(got, want) {
				t.Errorf("decode (into nil) differs (-want +got):\n%s", cmp.Diff(want, got))
			}
			into := &corev1.Pod{}
			gotTyped, gvk, err := c.Decode(data, nil, into)
			if err != nil {
				t.Fatalf("decode (into *Pod): %v", err)
			}
			if gotTyped != into {
				t.Errorf("decode (into *Pod) returned a new object")
			}
			if *gvk != coreV1.WithKind("Pod") {
				t.Errorf("decoded kind %v, want v1 Pod", gvk)
			}
			if !apiequality.Semantic.DeepEqual(gotTyped, want) {
				t.Errorf("decode (into *Pod) differs (-want +got):\n%s", cmp.Diff(want, gotTyped))
			}
			if again := encode(t, c, gotTyped); !bytes.Equal(again, data) {
				t.Errorf("re-encoding changed the bytes:\n got %q\nwant %q", again, data)
			}
		})
	}
}

// TestJSONIsCompactAndEscaped pins the JSON details that decide whether an
// unchanged object re-encodes to the stored bytes: compact, struct field
// order, HTML escaping, one trailing newline.
func TestJSONIsCompactAndEscaped(t *testing.T) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cm1", Namespace: "default", UID: "u1"},
		Data:       map[string]string{"a": "<b>"},
	}
	got := string(encode(t, newCodec(t, MediaTypeJSON, coreV1), cm))
	want := `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm1","namespace":"default","uid":"u1"},"data":{"a":"\u003cb\u003e"}}` + "\n"
	if got != want {
		t.Errorf("JSON encoding:\n got %q\nwant %q", got, want)
	}
}

// TestProtobufEnvelope pins the bytes of reference §4.2, produced by
// kube-apiserver's encoder (verified by execution there).
func TestProtobufEnvelope(t *testing.T) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cm1", Namespace: "default", UID: "u1"},
		Data:       map[string]string{"a": "b"},
	}
	want := []byte{
		0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, 0x43, 0x6f, 0x6e, 0x66, 0x69, 0x67, 0x4d, 0x61, 0x70, 0x12, 0x26,
		0x0a, 0x1c, 0x0a, 0x03, 0x63, 0x6d, 0x31, 0x12, 0x00, 0x1a, 0x07, 0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x22, 0x00, 0x2a, 0x02, 0x75, 0x31, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00,
		0x12, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x1a, 0x00, 0x22, 0x00,
	}
	if got := encode(t, newCodec(t, "", coreV1), cm); !bytes.Equal(got, want) {
		t.Errorf("protobuf encoding:\n got % x\nwant % x", got, want)
	}
}

// TestDecodeWhateverTheWriteFormat switches --storage-media-type: a codec of
// any media type reads what a codec of any other wrote.
func TestDecodeWhateverTheWriteFormat(t *testing.T) {
	for _, writer := range MediaTypes() {
		data := encode(t, newCodec(t, writer, coreV1), testPod())
		for _, reader := range MediaTypes() {
			got := &corev1.Pod{}
			if _, _, err := newCodec(t, reader, coreV1).Decode(data, nil, got); err != nil {
				t.Errorf("%s codec reading %s: %v", reader, writer, err)
				continue
			}
			if got.Name != "pod1" || got.Spec.Containers[0].Resources.Limits.Memory().String() != "128Mi" {
				t.Errorf("%s codec reading %s: got %+v", reader, writer, got.ObjectMeta)
			}
		}
	}
}

func TestDeserializerKeepsTheWrittenVersion(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"}}
	data := encode(t, newCodec(t, MediaTypeProtobuf, appsv1.SchemeGroupVersion), d)
	obj, gvk, err := Deserializer().Decode(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := obj.(*appsv1.Deployment); !ok || *gvk != appsv1.SchemeGroupVersion.WithKind("Deployment") {
		t.Errorf("Deserializer decoded %T (%v), want *v1.Deployment (apps/v1 Deployment)", obj, gvk)
	}
	if got := obj.GetObjectKind().GroupVersionKind(); got != *gvk {
		t.Errorf("decoded object has type meta %v, want %v", got, gvk)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name      string
		mediaType string
		gv        schema.GroupVersion
		wantErr   string
	}{
		{
			name:      "unknown media type",
			mediaType: "application/xml",
			gv:        coreV1,
			wantErr:   `--storage-media-type "application/xml" invalid, allowed values: application/cbor, application/json, application/vnd.kubernetes.protobuf, application/yaml`,
		},
		{
			name:      "parameters",
			mediaType: "application/json; charset=utf-8",
			gv:        coreV1,
			wantErr:   `--storage-media-type "application/json; charset=utf-8" invalid, allowed values: `,
		},
		{name: "unknown group", mediaType: MediaTypeJSON, gv: schema.GroupVersion{Group: "example.com", Version: "v1"}, wantErr: `codec: storage version "example.com/v1" is not a built-in group-version`},
		{name: "unknown version", mediaType: MediaTypeJSON, gv: schema.GroupVersion{Group: "apps", Version: "v9"}, wantErr: `"apps/v9" is not a built-in group-version`},
		{name: "no version", mediaType: MediaTypeJSON, gv: schema.GroupVersion{Group: "apps"}, wantErr: `"apps/" is not a built-in group-version`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.mediaType, tt.gv)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New(%q, %v) error = %v, want it to contain %q", tt.mediaType, tt.gv, err, tt.wantErr)
			}
		})
	}
}

func TestEncodeRefusesOtherGroups(t *testing.T) {
	c := newCodec(t, MediaTypeProtobuf, appsv1.SchemeGroupVersion)
	var buf bytes.Buffer
	err := c.Encode(testPod(), &buf)
	if err == nil || !strings.Contains(err.Error(), "encode *v1.Pod to apps/v1 as application/vnd.kubernetes.protobuf") {
		t.Errorf("encoding a pod with the apps/v1 codec: err = %v, want a clear error", err)
	}
}

func TestEncodeRefusesOtherVersions(t *testing.T) {
	c := newCodec(t, MediaTypeProtobuf, appsv1.SchemeGroupVersion)
	var buf bytes.Buffer
	err := c.Encode(&appsv1beta2.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"}}, &buf)
	if err == nil || !strings.Contains(err.Error(), "encode *v1beta2.Deployment to apps/v1") {
		t.Errorf("encoding an apps/v1beta2 deployment with the apps/v1 codec: err = %v, want a clear error", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	cm := encode(t, newCodec(t, MediaTypeProtobuf, coreV1), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}})
	tests := []struct {
		name    string
		data    []byte
		into    runtime.Object
		wantErr []string
	}{
		{name: "empty", data: nil, wantErr: []string{"decode: empty value"}},
		{name: "envelope only", data: []byte("k8s\x00"), wantErr: []string{"application/vnd.kubernetes.protobuf value of 4 bytes", "empty body"}},
		{name: "truncated protobuf", data: cm[:len(cm)-6], wantErr: []string{"application/vnd.kubernetes.protobuf value of"}},
		{name: "truncated JSON", data: []byte(`{"kind":"Pod","apiVersion":"v1","metadata":{`), wantErr: []string{"application/json value of 44 bytes"}},
		{name: "JSON without kind", data: []byte(`{"apiVersion":"v1"}`), wantErr: []string{"application/json value", "Object 'Kind' is missing"}},
		{name: "unknown kind", data: []byte(`{"apiVersion":"v1","kind":"Gizmo"}`), wantErr: []string{`no kind "Gizmo" is registered for version "v1"`}},
		{name: "binary", data: []byte{0x00, 0x01, 0xff, 0xfe}, wantErr: []string{"value of 4 bytes is not protobuf, JSON, YAML or CBOR (starts with 00 01 ff fe)"}},
		{name: "bad YAML", data: []byte("kind: ["), wantErr: []string{"application/yaml value of 7 bytes: yaml: line 1: did not find expected node content"}},
		{name: "truncated CBOR", data: []byte{0xd9, 0xd9, 0xf7, 0xa1}, wantErr: []string{"application/cbor value of 4 bytes"}},
		{
			name:    "encrypted",
			data:    []byte("k8s:enc:aescbc:v1:key1:\x8f\x00\x13secret"),
			wantErr: []string{`value is encrypted at rest (prefix "k8s:enc:aescbc:v1:key1:"); it must be decrypted first`},
		},
		{name: "other kind into", data: cm, into: &corev1.Pod{}, wantErr: []string{"application/vnd.kubernetes.protobuf value", "ConfigMap", "Pod"}},
	}
	c := newCodec(t, MediaTypeProtobuf, coreV1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, _, err := c.Decode(tt.data, nil, tt.into)
			if err == nil {
				t.Fatalf("Decode(%q) = %#v, want an error", tt.data, obj)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Decode(%q) error %q does not contain %q", tt.data, err, want)
				}
			}
		})
	}
}

// TestDecodeRefusesAnotherVersion: regis has no conversions, so a value at
// another version of the group is an error, not a silently wrong object.
func TestDecodeRefusesAnotherVersion(t *testing.T) {
	old := []byte(`{"kind":"Deployment","apiVersion":"apps/v1beta2","metadata":{"name":"d"}}`)
	_, _, err := newCodec(t, MediaTypeProtobuf, appsv1.SchemeGroupVersion).Decode(old, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "v1beta2.Deployment") {
		t.Errorf("decoding apps/v1beta2 with the apps/v1 codec: err = %v, want a conversion error", err)
	}
}

func TestIdentifierNamesFormatAndVersion(t *testing.T) {
	seen := map[runtime.Identifier]string{}
	for _, mt := range MediaTypes() {
		for _, gv := range []schema.GroupVersion{coreV1, appsv1.SchemeGroupVersion} {
			id := newCodec(t, mt, gv).Identifier()
			if other, ok := seen[id]; ok {
				t.Errorf("%s %v has the same identifier as %s: %s", mt, gv, other, id)
			}
			seen[id] = mt + " " + gv.String()
		}
	}
}

// TestConcurrentUse shares one codec between goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	c := newCodec(t, MediaTypeProtobuf, coreV1)
	data := encode(t, c, testPod())
	done := make(chan error)
	for range 4 {
		go func() {
			var err error
			for range 50 {
				if _, err = runtime.Encode(c, testPod()); err != nil {
					break
				}
				if _, _, err = c.Decode(data, nil, &corev1.Pod{}); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
