package aes_test

import (
	"bytes"
	"testing"

	upvalue "k8s.io/apiserver/pkg/storage/value"

	"github.com/regis-dev/regis/internal/storage/value"
)

// value2KiB stands for a 2 KiB protobuf-encoded Secret.
var value2KiB = bytes.Repeat([]byte{'s'}, 2048)

func BenchmarkToStorage2KiB(b *testing.B) {
	for _, p := range pairs() {
		b.Run(p.name, func(b *testing.B) {
			tr := p.ours(b, key(32))
			dc := value.DefaultContext(etcdKey)
			b.SetBytes(int64(len(value2KiB)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.TransformToStorage(b.Context(), value2KiB, dc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.name+"/upstream", func(b *testing.B) {
			tr := p.upstream(b, key(32))
			dc := upvalue.DefaultContext(etcdKey)
			b.SetBytes(int64(len(value2KiB)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.TransformToStorage(b.Context(), value2KiB, dc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFromStorage2KiB(b *testing.B) {
	for _, p := range pairs() {
		b.Run(p.name, func(b *testing.B) {
			tr := p.ours(b, key(32))
			dc := value.DefaultContext(etcdKey)
			stored, err := tr.TransformToStorage(b.Context(), value2KiB, dc)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(value2KiB)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := tr.TransformFromStorage(b.Context(), stored, dc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.name+"/upstream", func(b *testing.B) {
			tr := p.upstream(b, key(32))
			dc := upvalue.DefaultContext(etcdKey)
			stored, err := tr.TransformToStorage(b.Context(), value2KiB, dc)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(value2KiB)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := tr.TransformFromStorage(b.Context(), stored, dc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
