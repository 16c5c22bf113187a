package cacher

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The functional core: the persistent tree, the history ring, the
// snapshots and the time budget, tested without etcd.

func TestTreeMatchesAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	model := map[string]uint64{}
	var tr tree
	var versions []tree
	var models []map[string]uint64
	for i := range 5000 {
		k := fmt.Sprintf("/pods/ns-%d/p-%03d", r.IntN(5), r.IntN(200))
		if r.IntN(3) == 0 {
			tr = tr.delete(k)
			delete(model, k)
		} else {
			tr = tr.put(&element{key: k, rv: uint64(i)})
			model[k] = uint64(i)
		}
		if i%500 == 0 {
			versions = append(versions, tr)
			models = append(models, clone(model))
		}
	}
	versions = append(versions, tr)
	models = append(models, model)
	for v, tr := range versions {
		checkTree(t, fmt.Sprintf("version %d", v), tr, models[v])
	}
}

func clone(m map[string]uint64) map[string]uint64 {
	c := make(map[string]uint64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func checkTree(t *testing.T, name string, tr tree, model map[string]uint64) {
	t.Helper()
	keys := make([]string, 0, len(model))
	for k := range model {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if tr.len() != len(keys) {
		t.Fatalf("%s: len %d, want %d", name, tr.len(), len(keys))
	}
	var got []string
	tr.ascend("", "", func(e *element) bool {
		if e.rv != model[e.key] {
			t.Fatalf("%s: %s at rv %d, want %d", name, e.key, e.rv, model[e.key])
		}
		got = append(got, e.key)
		return true
	})
	if !slices.Equal(got, keys) {
		t.Fatalf("%s: ascend order differs", name)
	}
	for _, prefix := range []string{"/pods/ns-1/", "/pods/ns-3/p-1", "/pods/", "/x/"} {
		var want []string
		for _, k := range keys {
			if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
				want = append(want, k)
			}
		}
		var in []string
		tr.ascend(prefix, prefixEnd(prefix), func(e *element) bool { in = append(in, e.key); return true })
		if !slices.Equal(in, want) {
			t.Fatalf("%s: range %q: %d keys, want %d", name, prefix, len(in), len(want))
		}
		if n := tr.countRange(prefix, prefixEnd(prefix)); n != len(want) {
			t.Fatalf("%s: countRange %q = %d, want %d", name, prefix, n, len(want))
		}
	}
	for _, k := range keys[:min(len(keys), 20)] {
		if e := tr.get(k); e == nil || e.key != k {
			t.Fatalf("%s: get %s", name, k)
		}
	}
}

func TestBuildTreeIsTheSameTree(t *testing.T) {
	var elems []*element
	var inserted tree
	for i := range 1000 {
		e := &element{key: fmt.Sprintf("/k/%04d", i), rv: uint64(i)}
		elems = append(elems, e)
		inserted = inserted.put(e)
	}
	built := buildTree(elems)
	var a, b func(*node) string
	a = func(n *node) string {
		if n == nil {
			return "."
		}
		return "(" + a(n.left) + n.elem.key + a(n.right) + ")"
	}
	b = a
	if a(built.root) != b(inserted.root) || built.len() != 1000 {
		t.Fatal("buildTree and put disagree on the treap's shape")
	}
}

func TestHistory(t *testing.T) {
	now := time.Unix(1000, 0)
	ev := func(rv uint64) *event { return &event{rv: rv, recordTime: now} }
	rvs := func(es []*event) []uint64 {
		var out []uint64
		for _, e := range es {
			out = append(out, e.rv)
		}
		return out
	}
	tests := []struct {
		name    string
		listRV  uint64
		added   []uint64
		since   uint64
		want    []uint64
		wantErr string
	}{
		{name: "after the list", listRV: 10, added: []uint64{12, 15}, since: 10, want: []uint64{12, 15}},
		{name: "between events", listRV: 10, added: []uint64{12, 15}, since: 13, want: []uint64{15}},
		{name: "after everything", listRV: 10, added: []uint64{12, 15}, since: 99, want: []uint64{}},
		{name: "before the list", listRV: 10, added: []uint64{12}, since: 9, wantErr: "too old resource version: 9 (10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(DefaultEventsHistoryWindow, 0)
			h.reset(tt.listRV)
			for _, rv := range tt.added {
				h.add(ev(rv))
			}
			got, err := h.since(tt.since)
			if tt.wantErr != "" {
				if !apierrors.IsResourceExpired(err) || err.Error() != tt.wantErr {
					t.Fatalf("err %v, want 410 %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(rvs(got), tt.want) {
				t.Fatalf("since(%d) = %v, %v; want %v", tt.since, rvs(got), err, tt.want)
			}
		})
	}

	t.Run("grows while events are fresh, evicts at the upper bound", func(t *testing.T) {
		h := newHistory(DefaultEventsHistoryWindow, 0)
		h.upper = 400
		h.reset(0)
		for rv := uint64(1); rv <= 1000; rv++ {
			h.add(ev(rv))
		}
		if h.capacity() != 400 || h.oldestRV() != 601 {
			t.Fatalf("capacity %d, oldest %d; want 400, 601", h.capacity(), h.oldestRV())
		}
		if _, err := h.since(599); err == nil {
			t.Fatal("since an evicted revision: no error")
		}
		if got, err := h.since(600); err != nil || len(got) != 400 {
			t.Fatalf("since the last evicted revision: %d events, %v", len(got), err)
		}
	})
	t.Run("shrinks when the newest quarter is stale", func(t *testing.T) {
		h := newHistory(DefaultEventsHistoryWindow, 0)
		h.reset(0)
		for rv := uint64(1); rv <= 200; rv++ {
			h.add(ev(rv))
		}
		if h.capacity() != 200 {
			t.Fatalf("capacity %d, want 200", h.capacity())
		}
		late := &event{rv: 201, recordTime: now.Add(2 * DefaultEventsHistoryWindow)}
		h.add(late)
		if h.capacity() != 100 {
			t.Fatalf("capacity %d after stale events, want 100", h.capacity())
		}
	})
	t.Run("bounded by bytes", func(t *testing.T) {
		h := newHistory(DefaultEventsHistoryWindow, 1000)
		h.reset(0)
		sized := func(rv uint64, size int64) *event {
			e := ev(rv)
			e.cur = &element{rv: rv, size: size}
			return e
		}
		for rv := uint64(1); rv <= 10; rv++ {
			h.add(sized(rv, 300)) // three fit
		}
		if h.size() != 3 || h.oldestRV() != 8 || h.bytes != 900 {
			t.Fatalf("%d events from %d, %d bytes; want 3 from 8, 900", h.size(), h.oldestRV(), h.bytes)
		}
		if _, err := h.since(6); err == nil {
			t.Fatal("since an evicted revision: no error")
		}
		h.add(&event{rv: 11, recordTime: now, prev: &element{size: 5000}}) // a deletion larger than the bound
		if h.size() != 1 || h.oldestRV() != 11 || h.bytes != 5000 {
			t.Fatalf("%d events from %d, %d bytes; want the one that does not fit alone", h.size(), h.oldestRV(), h.bytes)
		}
		h.trim(11)
		if h.size() != 0 || h.bytes != 0 {
			t.Fatalf("after a trim: %d events, %d bytes", h.size(), h.bytes)
		}
	})
	t.Run("trim after a compaction", func(t *testing.T) {
		h := newHistory(DefaultEventsHistoryWindow, 0)
		h.reset(10)
		for _, rv := range []uint64{11, 12, 13} {
			h.add(ev(rv))
		}
		h.trim(12)
		if _, err := h.since(11); err == nil {
			t.Fatal("since a compacted revision: no error")
		}
		if got, _ := h.since(12); !slices.Equal(rvs(got), []uint64{13}) {
			t.Fatalf("since 12: %v", rvs(got))
		}
	})
}

func TestHistoryCapacityUpperBound(t *testing.T) {
	for _, tt := range []struct {
		window time.Duration
		want   int
	}{
		{75 * time.Second, 102400},
		{76 * time.Second, 204800},
		{150 * time.Second, 204800},
		{151 * time.Second, 409600},
	} {
		if got := historyCapacityUpperBound(tt.window); got != tt.want {
			t.Errorf("window %v: %d, want %d", tt.window, got, tt.want)
		}
	}
}

func TestWatchChanSize(t *testing.T) {
	h := newHistory(DefaultEventsHistoryWindow, 0)
	if got := h.watchChanSize(false, false); got != 10 {
		t.Fatalf("initial: %d, want 10", got)
	}
	h.buf = make([]*event, 102400)
	for _, tt := range []struct {
		exists, used bool
		want         int
	}{{false, false, 100}, {true, false, 1000}, {true, true, 10}} {
		if got := h.watchChanSize(tt.exists, tt.used); got != tt.want {
			t.Errorf("index %v, used %v: %d, want %d", tt.exists, tt.used, got, tt.want)
		}
	}
}

func TestSnapshots(t *testing.T) {
	var s snapshots
	mk := func(rv uint64) tree { return tree{}.put(&element{key: "/k", rv: rv}) }
	s.reset(10, mk(10))
	for _, rv := range []uint64{12, 15, 20} {
		s.add(rv, mk(rv))
	}
	at := func(rv uint64) uint64 {
		tr, ok := s.at(rv)
		if !ok {
			return 0
		}
		return tr.get("/k").rv
	}
	for rv, want := range map[uint64]uint64{9: 0, 10: 10, 11: 10, 14: 12, 15: 15, 99: 20} {
		if got := at(rv); got != want {
			t.Errorf("at(%d) = %d, want %d", rv, got, want)
		}
	}
	s.removeBelow(13)
	if at(12) != 0 || at(14) != 0 || at(15) != 15 || s.len() != 2 {
		t.Fatalf("after removeBelow(13): at(12)=%d at(14)=%d at(15)=%d len %d", at(12), at(14), at(15), s.len())
	}
}

func TestTimeBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTimeBudget(time.Now())
		if got := b.take(time.Now()); got != 0 {
			t.Fatalf("fresh budget %v, want 0", got)
		}
		time.Sleep(time.Second)
		if got := b.take(time.Now()); got != 50*time.Millisecond {
			t.Fatalf("after 1 s: %v, want 50ms", got)
		}
		b.settle(50*time.Millisecond, 20*time.Millisecond) // 30ms unused
		time.Sleep(10 * time.Second)
		if got := b.take(time.Now()); got != 100*time.Millisecond {
			t.Fatalf("after 10 s: %v, want the 100ms cap", got)
		}
		// Waits longer than available are a debt, of at most 100 ms.
		b.settle(100*time.Millisecond, 300*time.Millisecond)
		if b.canLend(time.Millisecond) {
			t.Fatal("lends beyond the maximum debt")
		}
		time.Sleep(2 * time.Second) // +100ms: the debt is repaid
		if got := b.take(time.Now()); got != 0 || !b.canLend(20*time.Millisecond) {
			t.Fatalf("after repaying: took %v, can lend %v", got, b.canLend(20*time.Millisecond))
		}
		time.Sleep(time.Second)
		if got := b.take(time.Now()); got != 50*time.Millisecond {
			t.Fatalf("then: %v, want 50ms", got)
		}
	})
}

func TestParseWatchCacheSizes(t *testing.T) {
	got, err := ParseWatchCacheSizes([]string{"pods#0", "deployments.apps#1000", "events#0"})
	if err != nil {
		t.Fatal(err)
	}
	for gr, want := range map[schema.GroupResource]struct{ enabled, dropped bool }{
		{Resource: "pods"}:                       {false, false},
		{Group: "apps", Resource: "deployments"}: {true, true},
		{Resource: "secrets"}:                    {true, false},
	} {
		if e, d := CacheEnabled(got, gr); e != want.enabled || d != want.dropped {
			t.Errorf("%v: enabled %v dropped %v, want %v", gr, e, d, want)
		}
	}
	for _, bad := range []string{"pods", "pods#x", "pods#-1", "a#1#2"} {
		if _, err := ParseWatchCacheSizes([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseWatchCacheMaxBytes(t *testing.T) {
	m, err := ParseWatchCacheMaxBytes([]string{"4Gi", "pods#512Mi", "secrets#1000"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Total != 4<<30 || m.For(schema.GroupResource{Resource: "pods"}) != 512<<20 || m.For(schema.GroupResource{Resource: "secrets"}) != 1000 {
		t.Fatalf("got %+v", m)
	}
	for _, bad := range []string{"x", "pods#", "#1", "pods#-1"} {
		if _, err := ParseWatchCacheMaxBytes([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
