package apiserver

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// podEvent is the protobuf encoding of a pod of a few KB, as a watch
// event carries it.
func podEvent(t testing.TB) []byte {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-7f9c6d5b8-x2x4k", Namespace: "default",
		Labels: map[string]string{"app": "web", "pod-template-hash": "7f9c6d5b8"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27",
			Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "MODE", Value: "production"}}}}}}
	var buf bytes.Buffer
	info, _ := lookupSerializer(mediaProtobuf)
	if err := encoderFor(info, schema.GroupVersion{Version: "v1"}).Encode(pod, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipMembers compresses its members until stored is set, then stores
// them; a gzip reader reads the whole stream back either way.
func TestGzipMembers(t *testing.T) {
	event := podEvent(t)
	var out bytes.Buffer
	m := &gzipMembers{w: &out}
	member := func() int {
		before := out.Len()
		for range 4 {
			if _, err := m.Write(event); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.end(); err != nil {
			t.Fatal(err)
		}
		return out.Len() - before
	}
	compressed := member()
	m.stored = true
	stored := member()
	if compressed >= 4*len(event) || stored < 4*len(event) {
		t.Errorf("members of %d bytes: %d compressed, %d stored", 4*len(event), compressed, stored)
	}
	// A write larger than a stored block (64 KiB), then an empty member.
	big := bytes.Repeat([]byte("0123456789"), 15_000)
	if _, err := m.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := m.end(); err != nil {
		t.Fatal(err)
	}
	if err := m.end(); err != nil { // nothing open: nothing written
		t.Fatal(err)
	}
	want := append(bytes.Repeat(event, 8), big...)
	zr, err := gzip.NewReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(all, want) {
		t.Fatalf("read back %d bytes (%v), want %d", len(all), err, len(want))
	}
}

// An ended member's data is readable at once, before the next member
// comes (a live event reaches the client at its flush), compressed or
// stored.
func TestGzipMemberReadableAtEnd(t *testing.T) {
	for _, stored := range []bool{false, true} {
		pr, pw := io.Pipe()
		m := &gzipMembers{w: pw, stored: stored}
		event := podEvent(t)
		go func() {
			_, _ = m.Write(event)
			_ = m.end()
			// No next member, the stream stays open.
		}()
		zr, err := gzip.NewReader(pr)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(event))
		done := make(chan error, 1)
		go func() {
			_, err := io.ReadFull(zr, got)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil || !bytes.Equal(got, event) {
				t.Fatalf("stored %v: read %v", stored, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("stored %v: the member's data is held until the next member", stored)
		}
		pw.Close()
	}
}

// BenchmarkMemberOfOneEvent: a gzip member of one pod's event, as a live
// event of a gzipped watch-list is sent, compressed at gzip's fastest
// level (upstream's) and stored (regis's).
func BenchmarkMemberOfOneEvent(b *testing.B) {
	event := podEvent(b)
	for _, stored := range []bool{false, true} {
		name := "compressed"
		if stored {
			name = "stored"
		}
		b.Run(name, func(b *testing.B) {
			m := &gzipMembers{w: io.Discard, stored: stored}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = m.Write(event)
				_ = m.end()
			}
		})
	}
}
