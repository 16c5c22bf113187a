package fault_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.RemoveBinary()
	os.Exit(code)
}

// readyProbe polls a server's /readyz every 100 ms and records the
// answers that were not 200.
type readyProbe struct {
	mu       sync.Mutex
	probes   int
	notReady []string
	stop     chan struct{}
	done     chan struct{}
}

func probeReady(t testing.TB, r *cluster.Regis) *readyProbe {
	p := &readyProbe{stop: make(chan struct{}), done: make(chan struct{})}
	go func() { // owned by p: ends with halt
		defer close(p.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			code, err := r.Readyz()
			p.mu.Lock()
			p.probes++
			if code != http.StatusOK {
				p.notReady = append(p.notReady, time.Now().Format("15:04:05.000")+" "+http.StatusText(code)+" "+errString(err))
			}
			p.mu.Unlock()
		}
	}()
	t.Cleanup(p.halt)
	return p
}

func (p *readyProbe) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// faultSetup is a 3-member etcd cluster of processes, a regis server on
// it, a namespace, two watchers of its configmaps through regis, and a
// write load of clients clients.
type faultSetup struct {
	etcd    *cluster.Cluster
	regis   *cluster.Regis
	ns      string
	fromRV  int64
	load    *load
	ws      []*watcher
	ready   *readyProbe
	started time.Time
}

func startFaultSetup(t *testing.T, clients int) *faultSetup {
	t.Helper()
	c := cluster.StartCluster(t, 3)
	r := cluster.StartRegis(t, "regis", filepath.Join(t.TempDir(), "data"), c.EtcdFlags()...)
	cs := r.Clientset(t)
	ns := newNamespace(t, cs)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := &faultSetup{etcd: c, regis: r, ns: ns}
	s.fromRV = mustParse(t, list.ResourceVersion)
	for range 2 {
		s.ws = append(s.ws, startWatcher(t, cs, ns, list.ResourceVersion))
	}
	s.ready = probeReady(t, r)
	s.started = time.Now()
	s.load = startLoad(t, ns, clients, r.Config(t))
	s.load.waitAcked(t, 50, 30*time.Second)
	return s
}

// finish stops the load and checks every acknowledged write, every
// watcher against etcd's history, and /readyz.
func (s *faultSetup) finish(t *testing.T, wantAlwaysReady bool) {
	t.Helper()
	s.load.halt()
	s.ready.halt()
	state := map[string]string{}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	list, err := s.regis.Clientset(t).CoreV1().ConfigMaps(s.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range list.Items {
		state[cm.Name] = cm.Data["v"]
	}
	n := s.load.checkState(t, state)
	t.Logf("%d names checked against their last acknowledged write, %d writes failed (first: %v)", n, s.load.failed, s.load.firstErr)
	checkWatchers(t, s.etcd.Client(t), s.ns, s.fromRV, s.ws...)
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	t.Logf("/readyz: %d probes, %d not ready", s.ready.probes, len(s.ready.notReady))
	if wantAlwaysReady && len(s.ready.notReady) > 0 {
		t.Errorf("/readyz not ready during the fault: %v", s.ready.notReady)
	}
}

// A follower killed (SIGKILL) under a write load of several clients:
// every acknowledged write is there afterwards, /readyz stays ready, and
// the watches through regis see exactly etcd's history. The member then
// comes back on its data and catches up.
func TestMemberKilled(t *testing.T) {
	s := startFaultSetup(t, 4)
	victim := s.etcd.Follower(t)
	killed := time.Now()
	victim.Kill()
	t.Logf("killed follower %s", victim.Name)
	s.load.waitAcked(t, 100, 30*time.Second)
	time.Sleep(time.Second)
	victim.Start(t)
	s.etcd.WaitHealthy(t, 30*time.Second)
	back := time.Now()
	s.load.waitAcked(t, 50, 30*time.Second)
	end := time.Now()
	t.Logf("before: %v", s.load.stats(s.started, killed))
	t.Logf("member down: %v", s.load.stats(killed, back))
	t.Logf("member back: %v", s.load.stats(back, end))
	s.finish(t, true)
}

// The leader killed under load: the same checks, and the time writes
// stall while the others elect a leader is measured.
func TestLeaderKilled(t *testing.T) {
	s := startFaultSetup(t, 4)
	leader := s.etcd.Leader(t, 20*time.Second)
	killed := time.Now()
	leader.Kill()
	t.Logf("killed leader %s", leader.Name)
	s.load.waitAcked(t, 100, 30*time.Second)
	recovered := time.Now()
	newLeader := s.etcd.Leader(t, 20*time.Second)
	t.Logf("new leader %s", newLeader.Name)
	leader.Start(t)
	s.etcd.WaitHealthy(t, 30*time.Second)
	s.load.waitAcked(t, 50, 30*time.Second)
	t.Logf("before: %v", s.load.stats(s.started, killed))
	st := s.load.stats(killed, recovered)
	t.Logf("leader killed until 100 writes more: %v (the longest stall is the election)", st)
	s.finish(t, false)
}

// mustParse parses a resourceVersion.
func mustParse(t testing.TB, rv string) int64 {
	t.Helper()
	var n int64
	for _, c := range rv {
		if c < '0' || c > '9' {
			t.Fatalf("resourceVersion %q", rv)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
