//go:build soak

package fault_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

// TestSoak (make soak; SOAK_DURATION, 10m by default): 50 clients mix
// creates, updates, deletes, lists and watches across two regis servers
// on one etcd. At the end each watcher's state, rebuilt from its events,
// equals a fresh list; no watcher saw a resourceVersion out of order or
// twice; the servers' goroutines and memory are sampled every 30 s.
func TestSoak(t *testing.T) {
	d := 10 * time.Minute
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	c := cluster.StartCluster(t, 1)
	var rs []*cluster.Regis
	for i := range 2 {
		rs = append(rs, cluster.StartRegis(t, fmt.Sprintf("regis%d", i+1), filepath.Join(t.TempDir(), "data"),
			append(c.EtcdFlags(), "--etcd-compaction-interval", "1m")...))
	}
	css := []*kubernetes.Clientset{rs[0].Clientset(t), rs[1].Clientset(t)}
	ns := newNamespace(t, css[0])
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	var ops, errs, lists, relists atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 { // writers
		wg.Go(func() { soakWriter(ctx, css[i%2].CoreV1().ConfigMaps(ns), i, &ops, &errs) })
	}
	for i := range 5 { // listers
		wg.Go(func() {
			for ctx.Err() == nil {
				opts := metav1.ListOptions{}
				if i%2 == 0 {
					opts.ResourceVersion = "0"
				}
				if _, err := css[i%2].CoreV1().ConfigMaps(ns).List(ctx, opts); err == nil {
					lists.Add(1)
				}
				sleep(ctx, time.Second)
			}
		})
	}
	var ws []*soakWatcher
	for i := range 5 { // watchers
		w := &soakWatcher{cs: css[i%2], ns: ns, state: map[string]string{}, relists: &relists}
		ws = append(ws, w)
		wg.Go(func() { w.run(ctx) })
	}

	start := time.Now()
	tick := time.NewTicker(30 * time.Second)
	var first, last []sample
	for time.Since(start) < d {
		<-tick.C
		var row []string
		var now []sample
		for _, r := range rs {
			s := sampleServer(t, r)
			now = append(now, s)
			row = append(row, s.String())
		}
		if first == nil && time.Since(start) >= d/4 { // after warm-up
			first = now
		}
		last = now
		t.Logf("%4.0fs ops %d (errors %d) lists %d relists %d | %s", time.Since(start).Seconds(), ops.Load(), errs.Load(), lists.Load(), relists.Load(), strings.Join(row, " | "))
	}
	tick.Stop()
	cancel()
	wg.Wait()
	t.Logf("%d writes (%.0f/s), %d errors, %d lists, %d watcher relists in %v", ops.Load(), float64(ops.Load())/time.Since(start).Seconds(), errs.Load(), lists.Load(), relists.Load(), d)

	// A marker: each watcher, caught up to it, has the state of a fresh list.
	cctx, ccancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer ccancel()
	marker, err := css[0].CoreV1().ConfigMaps(ns).Create(cctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "zz-marker"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	markerRV, _ := strconv.ParseInt(marker.ResourceVersion, 10, 64)
	for i, w := range ws {
		wctx, wcancel := context.WithTimeout(t.Context(), time.Minute)
		done := make(chan struct{})
		go func() { defer close(done); w.run(wctx) }()
		for w.lastRV() < markerRV && wctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		wcancel()
		<-done
		list, err := w.cs.CoreV1().ConfigMaps(ns).List(cctx, metav1.ListOptions{ResourceVersion: marker.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, cm := range list.Items {
			want[cm.Name] = cm.ResourceVersion
		}
		w.mu.Lock()
		if fmt.Sprint(w.state) != fmt.Sprint(want) {
			t.Errorf("watcher %d: %d objects rebuilt from events, the list has %d", i, len(w.state), len(want))
			for name, rv := range w.state {
				if want[name] != rv {
					t.Logf("  %s: watcher rv %s, list rv %q, etcd: %s", name, rv, want[name], etcdKey(t, c, ns, name, markerRV))
				}
			}
			for name, rv := range want {
				if _, ok := w.state[name]; !ok {
					t.Logf("  %s: not in the watcher, list rv %s, etcd: %s", name, rv, etcdKey(t, c, ns, name, markerRV))
				}
			}
		}
		if w.disorder > 0 {
			t.Errorf("watcher %d: %d events out of order or repeated", i, w.disorder)
		}
		t.Logf("watcher %d: %d events, %d relists, state equals the list: %v", i, w.events, w.relisted, fmt.Sprint(w.state) == fmt.Sprint(want))
		w.mu.Unlock()
	}
	for i := range rs {
		if first != nil && last[i].goroutines > 2*first[i].goroutines+100 {
			t.Errorf("regis%d: goroutines %d after warm-up, %d at the end", i+1, first[i].goroutines, last[i].goroutines)
		}
	}
}

func soakWriter(ctx context.Context, cms interface {
	Create(context.Context, *corev1.ConfigMap, metav1.CreateOptions) (*corev1.ConfigMap, error)
	Update(context.Context, *corev1.ConfigMap, metav1.UpdateOptions) (*corev1.ConfigMap, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
}, id int, ops, errs *atomic.Int64) {
	for n := 0; ctx.Err() == nil; n++ {
		name := fmt.Sprintf("w%d-%d", id, rand.IntN(20))
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"n": strconv.Itoa(n)}}
		var err error
		switch rand.IntN(3) {
		case 0:
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		case 1:
			_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		default:
			err = cms.Delete(ctx, name, metav1.DeleteOptions{})
		}
		switch {
		case err == nil:
			ops.Add(1)
		case apierrors.IsNotFound(err) || apierrors.IsAlreadyExists(err) || ctx.Err() != nil:
		default:
			errs.Add(1)
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// soakWatcher rebuilds the namespace's configmaps from a list and a watch,
// relisting when the watch cannot resume (410), and counts events whose
// resourceVersion is not above the previous one.
type soakWatcher struct {
	cs      *kubernetes.Clientset
	ns      string
	relists *atomic.Int64

	mu       sync.Mutex
	state    map[string]string // name -> resourceVersion
	rv       int64
	events   int
	relisted int
	disorder int
}

func (w *soakWatcher) lastRV() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rv
}

func (w *soakWatcher) run(ctx context.Context) {
	for ctx.Err() == nil {
		w.mu.Lock()
		rv := w.rv
		w.mu.Unlock()
		if rv == 0 {
			list, err := w.cs.CoreV1().ConfigMaps(w.ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				sleep(ctx, time.Second)
				continue
			}
			w.mu.Lock()
			w.state = map[string]string{}
			for _, cm := range list.Items {
				w.state[cm.Name] = cm.ResourceVersion
			}
			w.rv, _ = strconv.ParseInt(list.ResourceVersion, 10, 64)
			rv = w.rv
			w.mu.Unlock()
		}
		wi, err := w.cs.CoreV1().ConfigMaps(w.ns).Watch(ctx, metav1.ListOptions{ResourceVersion: strconv.FormatInt(rv, 10)})
		if err != nil {
			sleep(ctx, time.Second)
			continue
		}
		for ev := range wi.ResultChan() {
			if ev.Type == watch.Error {
				if st, ok := apierrors.FromObject(ev.Object).(apierrors.APIStatus); ok && st.Status().Code == http.StatusGone {
					w.mu.Lock() // too old: relist
					w.rv = 0
					w.relisted++
					w.mu.Unlock()
					w.relists.Add(1)
				}
				break // anything else (the stream cut): watch again from rv
			}
			cm, ok := ev.Object.(*corev1.ConfigMap)
			if !ok {
				continue
			}
			n, _ := strconv.ParseInt(cm.ResourceVersion, 10, 64)
			w.mu.Lock()
			w.events++
			if n <= w.rv {
				w.disorder++
			}
			w.rv = n
			if ev.Type == watch.Deleted {
				delete(w.state, cm.Name)
			} else {
				w.state[cm.Name] = cm.ResourceVersion
			}
			w.mu.Unlock()
		}
		wi.Stop()
	}
}

// sample is a server's goroutines, heap in use and resident memory.
type sample struct {
	goroutines int64
	heap, rss  int64
}

func (s sample) String() string {
	return fmt.Sprintf("goroutines %d heap %dMi rss %dMi", s.goroutines, s.heap>>20, s.rss>>20)
}

func sampleServer(t *testing.T, r *cluster.Regis) sample {
	var s sample
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	body, err := r.Clientset(t).CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err == nil {
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				s.goroutines = int64(f)
			}
			if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				s.heap = int64(f)
			}
		}
	}
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.Pid())); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				s.rss = kb << 10
			}
		}
	}
	return s
}

// etcdKey describes a configmap's key in etcd at rev: its revisions, or
// its absence.
func etcdKey(t *testing.T, c *cluster.Cluster, ns, name string, rev int64) string {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := c.Client(t).Get(ctx, "/registry/configmaps/"+ns+"/"+name, clientv3.WithRev(rev))
	switch {
	case err != nil:
		return err.Error()
	case len(resp.Kvs) == 0:
		return "absent"
	}
	kv := resp.Kvs[0]
	return fmt.Sprintf("created %d modified %d version %d", kv.CreateRevision, kv.ModRevision, kv.Version)
}
