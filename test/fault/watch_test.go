package fault_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// event is one change of a configmap as a watcher saw it: ADDED,
// MODIFIED or DELETED, its name, and its resourceVersion (the etcd
// revision of the change).
type event struct {
	typ  watch.EventType
	name string
	rv   int64
}

func (e event) String() string { return fmt.Sprintf("%s %s@%d", e.typ, e.name, e.rv) }

// watcher watches the configmaps of a namespace through regis from a
// resourceVersion, and when its stream ends (a server or etcd fault)
// watches again from the last resourceVersion it saw, as client-go's
// RetryWatcher does. It records every event and every reopening.
type watcher struct {
	mu      sync.Mutex
	events  []event
	reopens int
	errs    []string // ERROR events (a 410 Gone would be one)

	stop context.CancelFunc
	done chan struct{}
}

func startWatcher(t testing.TB, cs kubernetes.Interface, ns, fromRV string) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{stop: cancel, done: make(chan struct{})}
	go func() { // owned by w: ends with stop
		defer close(w.done)
		rv := fromRV
		for first := true; ctx.Err() == nil; first = false {
			if !first {
				w.mu.Lock()
				w.reopens++
				w.mu.Unlock()
			}
			wi, err := cs.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
			if err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			for ev := range wi.ResultChan() {
				if ev.Type == watch.Error {
					w.mu.Lock()
					w.errs = append(w.errs, fmt.Sprint(ev.Object))
					w.mu.Unlock()
					continue
				}
				cm, ok := ev.Object.(*corev1.ConfigMap)
				if !ok {
					continue
				}
				n, _ := strconv.ParseInt(cm.ResourceVersion, 10, 64)
				w.mu.Lock()
				w.events = append(w.events, event{ev.Type, cm.Name, n})
				w.mu.Unlock()
				rv = cm.ResourceVersion
			}
			wi.Stop()
		}
	}()
	t.Cleanup(w.halt)
	return w
}

func (w *watcher) halt() {
	w.stop()
	<-w.done
}

func (w *watcher) lastRV() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.events) == 0 {
		return 0
	}
	return w.events[len(w.events)-1].rv
}

// etcdHistory returns the changes of the configmaps of ns in etcd after
// revision from, up to etcd's current revision, as a watcher should see
// them.
func etcdHistory(t testing.TB, c *clientv3.Client, ns string, from int64) []event {
	t.Helper()
	prefix := "/registry/configmaps/" + ns + "/"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now, err := c.Get(ctx, prefix, clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	rev := now.Header.Revision
	var out []event
	wc := c.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithRev(from+1))
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C: // a synced watch answers with a progress notification
			_ = c.RequestProgress(ctx)
			continue
		case resp, ok := <-wc:
			if !ok {
				t.Fatalf("etcd history of %s ended before revision %d", ns, rev)
			}
			if err := resp.Err(); err != nil {
				t.Fatalf("etcd history: %v", err)
			}
			for _, e := range resp.Events {
				if e.Kv.ModRevision > rev {
					return out
				}
				ev := event{typ: watch.Modified, name: strings.TrimPrefix(string(e.Kv.Key), prefix), rv: e.Kv.ModRevision}
				switch {
				case e.Type == clientv3.EventTypeDelete:
					ev.typ = watch.Deleted
				case e.IsCreate():
					ev.typ = watch.Added
				}
				out = append(out, ev)
			}
			if resp.Header.Revision >= rev && (resp.IsProgressNotify() || len(resp.Events) > 0 && resp.Events[len(resp.Events)-1].Kv.ModRevision == rev) {
				return out
			}
		}
	}
}

// checkWatchers waits (bounded) until each watcher has seen the last
// change of ns, then compares its events with etcd's history from fromRV:
// the same changes in the same order, none missing, none twice.
func checkWatchers(t testing.TB, c *clientv3.Client, ns string, fromRV int64, ws ...*watcher) {
	t.Helper()
	want := etcdHistory(t, c, ns, fromRV)
	last := fromRV
	if len(want) > 0 {
		last = want[len(want)-1].rv
	}
	for i, w := range ws {
		deadline := time.Now().Add(30 * time.Second)
		for w.lastRV() < last && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		w.mu.Lock()
		got := append([]event(nil), w.events...)
		reopens, errs := w.reopens, w.errs
		w.mu.Unlock()
		t.Logf("watcher %d: %d events, %d reopenings, %d error events", i, len(got), reopens, len(errs))
		if len(errs) > 0 {
			t.Errorf("watcher %d: error events: %v", i, errs)
		}
		if len(got) != len(want) {
			t.Errorf("watcher %d: %d events, etcd has %d changes in (%d, %d]", i, len(got), len(want), fromRV, last)
		}
		for j := range min(len(got), len(want)) {
			if got[j] != want[j] {
				t.Errorf("watcher %d: event %d is %v, etcd's change is %v", i, j, got[j], want[j])
				break
			}
		}
	}
}

// withPrefixCount are the options of a count of every key under a prefix.
func withPrefixCount() []clientv3.OpOption {
	return []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly()}
}
