package codec

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// fixturePod returns the pod kube-apiserver stored in the fixtures.
func fixturePod(b *testing.B) *corev1.Pod {
	c := newCodec(b, MediaTypeProtobuf, coreV1)
	obj, err := runtime.Decode(c, readFile(b, fixtureDir+"/pod.etcd.bin"))
	if err != nil {
		b.Fatal(err)
	}
	return obj.(*corev1.Pod)
}

// BenchmarkStorageEncodePod is the write path's object-to-bytes step.
func BenchmarkStorageEncodePod(b *testing.B) {
	pod := fixturePod(b)
	for _, mt := range MediaTypes() {
		b.Run(mt, func(b *testing.B) {
			c := newCodec(b, mt, coreV1)
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := c.Encode(pod, &buf); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}

// BenchmarkStorageDecodePod is the read and watch paths' bytes-to-object step,
// into a fresh pod as the store does.
func BenchmarkStorageDecodePod(b *testing.B) {
	pod := fixturePod(b)
	for _, mt := range MediaTypes() {
		b.Run(mt, func(b *testing.B) {
			c := newCodec(b, mt, coreV1)
			data := encode(b, c, pod)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.Decode(data, nil, &corev1.Pod{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
