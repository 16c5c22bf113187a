package apiserver

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage/cacheable"
)

func framePod(t testing.TB) *cacheable.Object {
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", ResourceVersion: "42",
			Annotations: map[string]string{"html": "<a href='x'>&amp;</a>", "unicode": "é\u2028ü"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	co, err := cacheable.New(pod)
	if err != nil {
		t.Fatal(err)
	}
	return co
}

// countingEncoder counts the encodings a CacheableObject's cache misses.
type countingEncoder struct {
	runtime.Encoder
	n int
}

func (c *countingEncoder) Encode(obj runtime.Object, w io.Writer) error {
	if co, ok := obj.(runtime.CacheableObject); ok {
		return co.CacheEncode(c.Identifier(), func(obj runtime.Object, w io.Writer) error {
			c.n++
			return c.Encoder.Encode(obj, w)
		}, w)
	}
	c.n++
	return c.Encoder.Encode(obj, w)
}

// TestWatchFramesSameBytes checks that the frames written around an
// object's bytes are what apimachinery's streaming encoder writes for a
// metav1.WatchEvent, and that an event for many watchers is encoded once.
func TestWatchFramesSameBytes(t *testing.T) {
	for _, mt := range []string{mediaJSON, mediaProtobuf} {
		t.Run(mt, func(t *testing.T) {
			info := serializerFor(mt)
			frame := frameWriterFor(mt)
			counter := &countingEncoder{Encoder: codecs().EncoderForVersion(info.Serializer, schema.GroupVersion{Version: "v1"})}
			enc := newOnceEncoder(counter)
			co := framePod(t)
			st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Message: "gone <>", Code: 410}
			for _, ev := range []watch.Event{{Type: watch.Added, Object: co}, {Type: watch.Modified, Object: co},
				{Type: watch.Deleted, Object: co}, {Type: watch.Bookmark, Object: co}, {Type: watch.Error, Object: st}} {
				var rw rawWriter
				raw, err := encodeRaw(enc, ev.Object, &rw)
				if err != nil {
					t.Fatal(err)
				}
				var want bytes.Buffer
				stream := info.StreamSerializer
				if err := streaming.NewEncoder(stream.Framer.NewFrameWriter(&want), stream.Serializer).Encode(
					&metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: raw}}); err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				bw := bufio.NewWriter(&got)
				if err := frame(bw, ev.Type, raw); err != nil {
					t.Fatal(err)
				}
				if err := bw.Flush(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("%s frame:\n got %q\nwant %q", ev.Type, got.Bytes(), want.Bytes())
				}
			}
			if counter.n != 2 {
				t.Errorf("encoded %d times, want 2 (the pod once, the status once)", counter.n)
			}

			// An event for 1,000 watchers: one encoding, and nothing
			// allocated per watcher.
			co, counter.n = framePod(t), 0
			bw := bufio.NewWriterSize(io.Discard, 16<<10)
			var rw rawWriter
			allocs := testing.AllocsPerRun(1000, func() {
				rw.Reset()
				raw, err := encodeRaw(enc, co, &rw)
				if err != nil {
					t.Fatal(err)
				}
				if err := frame(bw, watch.Modified, raw); err != nil {
					t.Fatal(err)
				}
			})
			if counter.n != 1 {
				t.Errorf("an event for 1,000 watchers encoded %d times, want 1", counter.n)
			}
			if allocs > 0 {
				t.Errorf("%v allocations per watcher, want 0", allocs)
			}
		})
	}
}

func TestJSONItemWithoutTypeMeta(t *testing.T) {
	prefix := `{"kind":"Pod","apiVersion":"v1",`
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{`{"kind":"Pod","apiVersion":"v1","metadata":{}}` + "\n", `{"metadata":{}}`, true},
		{`{"kind":"Pod","apiVersion":"v1"}` + "\n", ``, false},
		{`{"metadata":{}}`, ``, false},
	} {
		got, ok := jsonItem([]byte(c.in), prefix)
		if ok != c.ok || string(got) != c.want {
			t.Errorf("jsonItem(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
