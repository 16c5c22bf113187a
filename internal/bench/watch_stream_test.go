package bench

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/client-go/kubernetes/scheme"
)

// testEvent is one event of a test stream.
type testEvent struct {
	typ string
	rv  string
}

// watchStreamOf encodes events as kube-apiserver's watch handler does:
// each object with the negotiated serializer (the "k8s\x00" envelope for
// protobuf), in a metav1.WatchEvent framed by the stream serializer.
// A pod event carries a pod of the bench's shape with managedFields; an
// ERROR event a Status.
func watchStreamOf(t testing.TB, contentType string, events []testEvent) []byte {
	t.Helper()
	mediaType := runtime.ContentTypeJSON
	if contentType == "protobuf" {
		mediaType = runtime.ContentTypeProtobuf
	}
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), mediaType)
	if !ok || info.StreamSerializer == nil {
		t.Fatalf("no stream serializer for %s", mediaType)
	}
	embedded := scheme.Codecs.EncoderForVersion(info.Serializer, corev1.SchemeGroupVersion)
	var out bytes.Buffer
	enc := streaming.NewEncoder(info.StreamSerializer.Framer.NewFrameWriter(&out), info.StreamSerializer.Serializer)
	for i, e := range events {
		var obj runtime.Object
		if e.typ == "ERROR" {
			obj = &metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version: 1 (2)"}
			embedded = scheme.Codecs.EncoderForVersion(info.Serializer, metav1.SchemeGroupVersion)
		} else {
			pod := newPod("run-1", i)
			pod.Namespace, pod.ResourceVersion, pod.UID = "regis-bench-1", e.rv, "1f6b3f61-8f0e-4c55-a2b8-4bd1d6b4a7e3"
			pod.ManagedFields = []metav1.ManagedFieldsEntry{{
				Manager: "regis-bench", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
				Time: &metav1.Time{Time: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}, FieldsType: "FieldsV1",
				FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/restartedAt":{},"f:regis.dev/bench-index":{}},"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:args":{},"f:command":{},"f:image":{}}}}}`)},
			}}
			pod.Spec.Containers[0].Env[0].Value = `a "quoted" \ value, "resourceVersion":"1"`
			obj = pod
		}
		var raw bytes.Buffer
		if err := embedded.Encode(obj, &raw); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(&metav1.WatchEvent{Type: e.typ, Object: runtime.RawExtension{Raw: raw.Bytes()}}); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

// oneByteReader returns one byte per Read: frames split anywhere.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestEventReaders(t *testing.T) {
	events := []testEvent{{"ADDED", "100"}, {"MODIFIED", "101"}, {"BOOKMARK", "102"}, {"DELETED", "18446744073709551615"}, {"ERROR", ""}}
	for _, ct := range []string{"protobuf", "json"} {
		stream := watchStreamOf(t, ct, events)
		for _, split := range []bool{false, true} {
			t.Run(ct+"/split="+strconv.FormatBool(split), func(t *testing.T) {
				var r io.Reader = bytes.NewReader(stream)
				if split {
					r = oneByteReader{r}
				}
				er := newEventReader(ct, r)
				for _, want := range events {
					got, err := er.next()
					if err != nil {
						t.Fatalf("event %v: %v", want, err)
					}
					if got.typ != want.typ || (want.typ != "ERROR" && string(got.rv) != want.rv) {
						t.Fatalf("got %+v, want %+v", got, want)
					}
				}
				if _, err := er.next(); !errors.Is(err, io.EOF) {
					t.Fatalf("after the last event: %v, want EOF", err)
				}
			})
		}
		t.Run(ct+"/truncated", func(t *testing.T) {
			er := newEventReader(ct, bytes.NewReader(stream[:len(stream)/3]))
			var err error
			for range len(events) {
				if _, err = er.next(); err != nil {
					break
				}
			}
			if err == nil || errors.Is(err, io.EOF) && ct == "protobuf" {
				t.Fatalf("a truncated stream: %v, want an unexpected EOF", err)
			}
		})
	}
}

// TestJSONEventMembers reads members in any order, with whitespace and
// escapes, and a resourceVersion nested elsewhere in the object.
func TestJSONEventMembers(t *testing.T) {
	stream := ` {"object": {"spec":{"ref":{"resourceVersion":"9"},"n":[1,{"a":"}"}],"t":true,"x":null},
	"metadata":{"name":"a\"b","resourceVersion":"7"}}, "type" : "MODIFIED"}
{"type":"ADDED","object":{"metadata":{"resourceVersion":"\u0038"}}}{"type":"DELETED","object":{"metadata":{}}}`
	er := newEventReader("json", strings.NewReader(stream))
	for _, want := range []testEvent{{"MODIFIED", "7"}, {"ADDED", "8"}, {"DELETED", ""}} {
		got, err := er.next()
		if err != nil {
			t.Fatal(err)
		}
		if got.typ != want.typ || string(got.rv) != want.rv {
			t.Fatalf("got %s %q, want %+v", got.typ, got.rv, want)
		}
	}
}

func TestEventReaderRefuses(t *testing.T) {
	for _, c := range []struct{ name, ct, stream string }{
		{"huge frame", "protobuf", "\x7f\xff\xff\xff"},
		{"no envelope", "protobuf", "\x00\x00\x00\x0b\x0a\x05ADDED\x12\x02\x0a\x00"},
		{"bad varint", "protobuf", "\x00\x00\x00\x02\x0a\xff"},
		{"not an object", "json", `["ADDED"]` + "\n"},
		{"unterminated string", "json", `{"type":"ADDED","object":{"metadata":{"resourceVersion":"1}}}`},
		{"deep and truncated", "json", `{"a":` + strings.Repeat("[", 20000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if ev, err := newEventReader(c.ct, strings.NewReader(c.stream)).next(); err == nil {
				t.Fatalf("got %+v, want an error", ev)
			}
		})
	}
	// A JSON event over the bound.
	big := `{"type":"ADDED","object":{"metadata":{"resourceVersion":"1"},"x":"` + strings.Repeat("a", maxFrame) + `"}}`
	if _, err := newEventReader("json", strings.NewReader(big)).next(); err == nil {
		t.Fatal("an event over maxFrame was read")
	}
}

// BenchmarkEventReader reads a watch stream of 1,000 pod events as a
// watcher of `regis bench` does: what the load generator spends per
// received event, above the transport.
//
//	go test ./internal/bench -run '^$' -bench EventReader -count 5
func BenchmarkEventReader(b *testing.B) {
	events := make([]testEvent, 1000)
	for i := range events {
		events[i] = testEvent{"MODIFIED", strconv.Itoa(5000 + i)}
	}
	for _, ct := range []string{"protobuf", "json"} {
		stream := watchStreamOf(b, ct, events)
		b.Run(ct, func(b *testing.B) {
			b.SetBytes(int64(len(stream) / len(events)))
			b.ReportAllocs()
			r := bytes.NewReader(stream)
			er := newEventReader(ct, r)
			for i := 0; b.Loop(); i++ {
				if i%len(events) == 0 {
					r.Reset(stream)
				}
				if _, err := er.next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
