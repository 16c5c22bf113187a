package fault_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// op is one acknowledged write: when it finished and how long it took.
type op struct {
	end time.Time
	dur time.Duration
}

// load is a write load of several clients on configmaps of one
// namespace: each client creates objects of its own, updates them and
// deletes some, one request at a time. A name whose request failed (its
// outcome unknown) is left alone from then on; the others' final state is
// known from the acknowledged writes only.
type load struct {
	ns   string
	name string // prefix of the names, one per load

	mu       sync.Mutex
	acked    []op
	failed   int
	want     map[string]string // name -> data["v"] of the last acknowledged write; "" deleted
	unknown  map[string]bool
	firstErr error

	stop chan struct{}
	wg   sync.WaitGroup
}

// startLoad starts clients goroutines writing through the configs (client
// i uses configs[i%len]) until stopped.
func startLoad(t testing.TB, ns string, clients int, configs ...*rest.Config) *load {
	l := &load{ns: ns, name: fmt.Sprintf("l%d-", loadSeq.Add(1)), want: map[string]string{}, unknown: map[string]bool{}, stop: make(chan struct{})}
	for i := range clients {
		rc := rest.CopyConfig(configs[i%len(configs)])
		rc.Timeout = 20 * time.Second // no request hangs
		cs := kubernetes.NewForConfigOrDie(rc)
		l.wg.Go(func() { l.client(cs, i) })
	}
	t.Cleanup(l.halt)
	return l
}

func (l *load) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

func (l *load) client(cs *kubernetes.Clientset, id int) {
	cms := cs.CoreV1().ConfigMaps(l.ns)
	var live []string // names of this client whose state is known and present
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		start := time.Now()
		var name, v string
		var err error
		switch {
		case n%4 == 3 && len(live) > 0: // update the oldest
			name, v = live[0], strconv.Itoa(n)
			_, err = cms.Update(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"v": v}}, metav1.UpdateOptions{})
		case n%8 == 5 && len(live) > 1: // delete the oldest
			name = live[0]
			err = cms.Delete(ctx, name, metav1.DeleteOptions{})
		default:
			name, v = fmt.Sprintf("%sc%d-%d", l.name, id, n), strconv.Itoa(n)
			_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"v": v}}, metav1.CreateOptions{})
		}
		cancel()
		end := time.Now()
		l.mu.Lock()
		if err != nil {
			l.failed++
			l.unknown[name] = true
			if l.firstErr == nil {
				l.firstErr = err
			}
			live = slices.DeleteFunc(live, func(s string) bool { return s == name })
			l.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			continue
		}
		l.acked = append(l.acked, op{end: end, dur: end.Sub(start)})
		l.want[name] = v
		l.mu.Unlock()
		switch {
		case v == "": // deleted
			live = live[1:]
		case !slices.Contains(live, name):
			live = append(live, name)
		default: // updated: to the back
			live = append(slices.DeleteFunc(live, func(s string) bool { return s == name }), name)
		}
	}
}

// ackedCount returns the number of acknowledged writes so far.
func (l *load) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// waitAcked waits (bounded) until n more writes are acknowledged.
func (l *load) waitAcked(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	target := l.ackedCount() + n
	deadline := time.Now().Add(timeout)
	for l.ackedCount() < target {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d writes acknowledged in %v (first error: %v)", n, timeout, l.firstErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stats summarizes the acknowledged writes finished in [from, to).
type stats struct {
	ops      int
	opsPerS  float64
	p50, p99 time.Duration
	maxGap   time.Duration // the longest time with no write acknowledged
}

func (s stats) String() string {
	return fmt.Sprintf("%d writes, %.0f ops/s, p50 %v, p99 %v, longest stall %v", s.ops, s.opsPerS,
		s.p50.Round(time.Millisecond), s.p99.Round(time.Millisecond), s.maxGap.Round(time.Millisecond))
}

func (l *load) stats(from, to time.Time) stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var durs []time.Duration
	var ends []time.Time
	for _, o := range l.acked {
		if !o.end.Before(from) && o.end.Before(to) {
			durs = append(durs, o.dur)
			ends = append(ends, o.end)
		}
	}
	s := stats{ops: len(durs)}
	if len(durs) == 0 {
		s.maxGap = to.Sub(from)
		return s
	}
	slices.Sort(durs)
	slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
	s.opsPerS = float64(len(durs)) / to.Sub(from).Seconds()
	s.p50, s.p99 = durs[len(durs)/2], durs[(len(durs)*99)/100]
	prev := from
	for _, e := range append(ends, to) {
		s.maxGap = max(s.maxGap, e.Sub(prev))
		prev = e
	}
	return s
}

// checkState checks that every name whose outcome is known is as its last
// acknowledged write left it, in state (name -> data["v"]), and returns
// the number checked.
func (l *load) checkState(t testing.TB, state map[string]string) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	lost := 0
	n := 0
	for name, v := range l.want {
		if l.unknown[name] {
			continue
		}
		n++
		got, ok := state[name]
		switch {
		case v == "" && ok:
			t.Errorf("%s: deleted (acknowledged) but present", name)
			lost++
		case v != "" && !ok:
			t.Errorf("%s: acknowledged with v=%s but missing", name, v)
			lost++
		case v != "" && got != v:
			t.Errorf("%s: acknowledged v=%s, found v=%s", name, v, got)
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost", lost)
	}
	return n
}

var nsSeq, loadSeq atomic.Int32

// newNamespace creates a namespace through cs.
func newNamespace(t testing.TB, cs kubernetes.Interface) string {
	t.Helper()
	name := fmt.Sprintf("load-%d", nsSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}
