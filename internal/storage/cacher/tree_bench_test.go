package cacher

import (
	"fmt"
	"testing"
)

// BenchmarkTree measures the treap alone (no etcd): a full ascend of 5,000
// keys, as a list of every pod, and a get of each, as the reflector does
// per event.
func BenchmarkTree(b *testing.B) {
	var elems []*element
	for i := range 5000 {
		elems = append(elems, &element{key: fmt.Sprintf("/pods/ns-%d/web-5d8f7c9b4-%05d", i%50, i)})
	}
	var t tree
	for _, e := range elems {
		t = t.put(e)
	}
	b.Run("ascend", func(b *testing.B) {
		for b.Loop() {
			n := 0
			t.ascend("/pods/", prefixEnd("/pods/"), func(*element) bool { n++; return true })
			if n != 5000 {
				b.Fatal(n)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		for b.Loop() {
			for _, e := range elems {
				if t.get(e.key) != e {
					b.Fatal(e.key)
				}
			}
		}
	})
	b.Run("put", func(b *testing.B) {
		for b.Loop() {
			for _, e := range elems[:1000] {
				t = t.put(e)
			}
		}
	})
}
