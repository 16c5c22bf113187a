package cacher_test

import (
	"bytes"
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// The history keeps older revisions packed (encoded only): a watch from an
// old revision gets them decoded, equal to what etcd stored, and encoded
// as the objects themselves would be.
func TestWatchFromAnOldRevisionGetsPackedEvents(t *testing.T) {
	f := newFixture(t)
	first := f.create(t, newPod("ns", "p", "node-1"))
	want := []runtime.Object{}
	types := []watch.EventType{}
	for i := range 300 {
		if i == 10 {
			want = append(want, f.create(t, newPod("ns", "gone", "node-2")))
			types = append(types, watch.Added)
		}
		if i == 20 {
			want = append(want, f.delete(t, "ns", "gone"))
			types = append(types, watch.Deleted)
		}
		want = append(want, f.update(t, "ns", "p", func(p *corev1.Pod) {
			p.Annotations = map[string]string{"n": strconv.Itoa(i)}
		}))
		types = append(types, watch.Modified)
	}
	// Once the cache has every event (a list not older than the last
	// waits for it), the oldest ones are packed.
	last := want[len(want)-1].(*corev1.Pod).ResourceVersion
	if err := f.cacher.GetList(context.Background(), "/pods", storage.ListOptions{ResourceVersion: last,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, Recursive: true, Predicate: storage.Everything}, &corev1.PodList{}); err != nil {
		t.Fatal(err)
	}
	w := watchFrom(t, f, first.ResourceVersion)
	scheme := codec.Scheme()
	enc := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{})
	packed := 0
	for i := range want {
		ev, ok := next(t, w, 10*time.Second)
		if !ok || ev.Type != types[i] {
			t.Fatalf("event %d: %s, want %s", i, ev.Type, types[i])
		}
		if co, ok := ev.Object.(*cacheable.Object); ok && co.Packed() {
			packed++
		}
		if got := unwrap(ev.Object); !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("event %d: got %#v\nwant %#v", i, got, want[i])
		}
		var a, b bytes.Buffer
		if err := enc.Encode(ev.Object, &a); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(want[i], &b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("event %d encodes as\n%s\nwant\n%s", i, a.Bytes(), b.Bytes())
		}
	}
	if packed == 0 {
		t.Fatal("no event of the history was packed")
	}
}

// With KeepHistoryDecoded nothing is packed.
func TestKeepHistoryDecoded(t *testing.T) {
	f := newFixture(t, withConfig(func(c *cacher.Config) { c.KeepHistoryDecoded = true }))
	first := f.create(t, newPod("ns", "p", "node-1"))
	var last *corev1.Pod
	for i := range 300 {
		last = f.update(t, "ns", "p", func(p *corev1.Pod) { p.Annotations = map[string]string{"n": strconv.Itoa(i)} })
	}
	if err := f.cacher.GetList(context.Background(), "/pods", storage.ListOptions{ResourceVersion: last.ResourceVersion,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, Recursive: true, Predicate: storage.Everything}, &corev1.PodList{}); err != nil {
		t.Fatal(err)
	}
	w := watchFrom(t, f, first.ResourceVersion)
	for i := range 300 {
		ev, _ := next(t, w, 10*time.Second)
		if co, ok := ev.Object.(*cacheable.Object); !ok || co.Packed() {
			t.Fatalf("event %d: %T packed", i, ev.Object)
		}
	}
}

// The history is bounded by the encoded size of its objects too: a watch
// from before the events that did not fit is too old.
func TestHistoryIsBoundedByBytes(t *testing.T) {
	size := int64(newPod("ns", "p-00", "node-1").Size())
	f := newFixture(t, withConfig(func(c *cacher.Config) { c.EventsHistoryMaxBytes = 10 * (size + 50) }))
	var rvs []string
	for i := range 30 {
		rvs = append(rvs, f.create(t, newPod("ns", "p-"+strconv.Itoa(i+10), "node-1")).ResourceVersion)
	}
	w := watchFrom(t, f, rvs[25])
	for i := 26; i < 30; i++ {
		ev, _ := next(t, w, 5*time.Second)
		if ev.Type != watch.Added || strconv.FormatUint(objRV(t, ev.Object), 10) != rvs[i] {
			t.Fatalf("watch within the bound: event %d: %s", i, ev.Type)
		}
	}
	// The cache has every event now.
	ev, _ := next(t, watchFrom(t, f, rvs[0]), 5*time.Second)
	if ev.Type != watch.Error || !apierrors.IsResourceExpired(apierrors.FromObject(ev.Object)) {
		t.Fatalf("watch from before the bytes bound: %s %#v, want 410", ev.Type, ev.Object)
	}
}
