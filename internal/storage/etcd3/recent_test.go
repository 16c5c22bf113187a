package etcd3_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

// TestWatchEventsOfWrites: the events of a store's own writes, whether
// they take the written object or decode, are what a read of the stored
// value gives, and no two watches share one; in every media type.
func TestWatchEventsOfWrites(t *testing.T) {
	ctx := context.Background()
	for _, mt := range []string{"", "application/json"} {
		t.Run("pods "+mt, func(t *testing.T) {
			f := newStore(t, mt)
			var ws []watch.Interface
			for range 2 {
				w, err := f.store.Watch(ctx, "/pods/ns", storage.ListOptions{ResourceVersion: "1", Recursive: true, Predicate: storage.Everything})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Stop()
				ws = append(ws, w)
			}
			const n = 40
			for i := range n {
				name := fmt.Sprint("p", i)
				if err := f.store.Create(ctx, key("ns", name), etcd3.CreatedPod("ns", name), &corev1.Pod{}, 0); err != nil {
					t.Fatal(err)
				}
				sameEvent(t, f.store, ws, watch.Added, name)
				err := f.store.GuaranteedUpdate(ctx, key("ns", name), &corev1.Pod{}, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
					p := in.(*corev1.Pod)
					p.Labels["x"] = "y"
					return p, nil, nil
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
				sameEvent(t, f.store, ws, watch.Modified, name)
			}
			t.Logf("%d of %d events took the written object", f.store.WrittenTaken(), 2*n)
			if mt == "" && f.store.WrittenTaken() != 2*n {
				// The copy is left before the write is sent: the event,
				// even when it comes before the write's answer, finds it.
				t.Errorf("%d of the %d writes' events took the written object, want every one", f.store.WrittenTaken(), 2*n)
			}
		})
	}
}

// TestWatchEventsOfWritesEncoded: a watch that asks for them (the watch
// cache's) gets the objects of writes' events with the bytes they pack
// into, which decode to what is stored; a DELETED event and the events of
// writes made elsewhere are as before.
func TestWatchEventsOfWritesEncoded(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	w, err := f.store.Watch(cacheable.WantEncoded(ctx), "/pods/ns", storage.ListOptions{ResourceVersion: "1", Recursive: true, Predicate: storage.Everything})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	next := func(typ watch.EventType) runtime.Object {
		t.Helper()
		select {
		case ev := <-w.ResultChan():
			if ev.Type != typ {
				t.Fatalf("event %s, want %s: %v", ev.Type, typ, ev.Object)
			}
			return ev.Object
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s event", typ)
		}
		return nil
	}
	check := func(obj runtime.Object, name string) {
		t.Helper()
		co, ok := obj.(*cacheable.Object)
		if !ok {
			t.Fatalf("%s: event object %T, want a *cacheable.Object", name, obj)
		}
		fresh := &corev1.Pod{}
		if err := f.store.Get(ctx, key("ns", name), storage.GetOptions{}, fresh); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(co.Object(), runtime.Object(fresh)) {
			t.Fatalf("%s: the event's object differs from what is stored", name)
		}
		if n, ok := co.EncodedSize(); !ok || n != int64(fresh.Size()) {
			t.Fatalf("%s: EncodedSize %d %v, want %d", name, n, ok, fresh.Size())
		}
		if !co.Pack() {
			t.Fatalf("%s: not packed", name)
		}
		if !reflect.DeepEqual(co.GetObject(), runtime.Object(fresh)) {
			t.Fatalf("%s: the packed object decodes otherwise than what is stored (-stored +packed):\n%s", name,
				cmp.Diff(fresh, co.GetObject(), cmp.Exporter(func(reflect.Type) bool { return true })))
		}
	}
	for i := range 5 {
		name := fmt.Sprint("p", i)
		if err := f.store.Create(ctx, key("ns", name), etcd3.CreatedPod("ns", name), &corev1.Pod{}, 0); err != nil {
			t.Fatal(err)
		}
		check(next(watch.Added), name)
		err := f.store.GuaranteedUpdate(ctx, key("ns", name), &corev1.Pod{}, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			p := in.(*corev1.Pod)
			p.Labels["x"] = strings.Repeat("y", 100*i)
			return p, nil, nil
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		check(next(watch.Modified), name)
		if err := f.store.Delete(ctx, key("ns", name), &corev1.Pod{}, nil, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if obj := next(watch.Deleted); reflect.TypeOf(obj) != reflect.TypeOf(&corev1.Pod{}) {
			t.Fatalf("DELETED event's object %T", obj)
		}
	}
}

// sameEvent receives name's next event on every watch and holds it to a
// Get of what is stored.
func sameEvent(t *testing.T, s *etcd3.Store, ws []watch.Interface, typ watch.EventType, name string) {
	t.Helper()
	fresh := &corev1.Pod{}
	if err := s.Get(context.Background(), key("ns", name), storage.GetOptions{}, fresh); err != nil {
		t.Fatal(err)
	}
	var got []runtime.Object
	for _, w := range ws {
		select {
		case ev := <-w.ResultChan():
			if ev.Type != typ {
				t.Fatalf("%s: event %s, want %s: %v", name, ev.Type, typ, ev.Object)
			}
			if !reflect.DeepEqual(ev.Object, fresh) {
				t.Fatalf("%s: the event's object differs from what is stored (-stored +event):\n%s", name,
					cmp.Diff(fresh, ev.Object, cmp.Exporter(func(reflect.Type) bool { return true })))
			}
			for _, o := range got {
				if o == ev.Object {
					t.Fatalf("%s: two watches got the same object", name)
				}
			}
			got = append(got, ev.Object)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no %s event", name, typ)
		}
	}
}

// BenchmarkCreateWatched creates pods in a store a watch follows, as the
// watch cache does, with and without the written object's copy taken by
// the watch, and reports the CPU of the process per create (the
// embedded etcd's included):
//
//	go test ./internal/storage/etcd3 -run '^$' -bench CreateWatched -benchtime 3000x -count 5
func BenchmarkCreateWatched(b *testing.B) {
	ctx := context.Background()
	f := newStore(b, "")
	w, err := f.store.Watch(ctx, "/pods/watched", storage.ListOptions{ResourceVersion: "1", Recursive: true, Predicate: storage.Everything})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	received := make(chan struct{}, 1024)
	go func() {
		for range w.ResultChan() {
			received <- struct{}{}
		}
	}()
	seq := 0
	for _, keep := range []bool{false, true} {
		b.Run(fmt.Sprint("copy=", keep), func(b *testing.B) {
			f.store.KeepWritten(keep)
			b.ReportAllocs()
			before := cpuNow(b)
			taken0 := f.store.WrittenTaken()
			for b.Loop() {
				seq++
				name := fmt.Sprint("p", seq)
				if err := f.store.Create(ctx, key("watched", name), etcd3.CreatedPod("watched", name), &corev1.Pod{}, 0); err != nil {
					b.Fatal(err)
				}
				<-received
			}
			b.ReportMetric(float64((cpuNow(b)-before).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(f.store.WrittenTaken()-taken0)/float64(b.N), "taken/op")
		})
	}
}

func cpuNow(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
