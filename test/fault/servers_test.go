package fault_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

// startServers starts n regis servers on one etcd (a 1-member `regis etcd`
// process: the servers are what is tested) with args added.
func startServers(t *testing.T, n int, args ...string) (*cluster.Cluster, []*cluster.Regis) {
	t.Helper()
	c := cluster.StartCluster(t, 1)
	var rs []*cluster.Regis
	for i := range n {
		r := cluster.NewRegis(t, fmt.Sprintf("regis%d", i+1), filepath.Join(t.TempDir(), "data"), append(c.EtcdFlags(), args...)...)
		r.Start(t)
		rs = append(rs, r)
	}
	for _, r := range rs {
		r.WaitReady(t, 90*time.Second)
	}
	return c, rs
}

// A write through one server is seen by watches through the others
// within a bounded time.
func TestServersWatchEachOther(t *testing.T) {
	_, rs := startServers(t, 3)
	a := rs[0].Clientset(t)
	ns := newNamespace(t, a)
	type seen struct {
		name string
		at   time.Time
	}
	var mu sync.Mutex
	got := map[int][]seen{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for i, r := range rs[1:] {
		w, err := r.Clientset(t).CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		wg.Go(func() {
			for ev := range w.ResultChan() {
				// Only the test's writes (w0, w1...): the servers' own
				// controllers add kube-root-ca.crt to every namespace.
				if cm, ok := ev.Object.(*corev1.ConfigMap); ok && ev.Type == watch.Added && strings.HasPrefix(cm.Name, "w") {
					mu.Lock()
					got[i] = append(got[i], seen{cm.Name, time.Now()})
					mu.Unlock()
				}
			}
		})
	}
	const writes = 50
	sent := map[string]time.Time{}
	for i := range writes {
		name := fmt.Sprintf("w%d", i)
		sent[name] = time.Now()
		if _, err := a.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		done := len(got[0]) >= writes && len(got[1]) >= writes
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watches through the other servers saw %d and %d of %d creates after 10s", len(got[0]), len(got[1]), writes)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	var lat []time.Duration
	for i := range 2 {
		for _, s := range got[i] {
			lat = append(lat, s.at.Sub(sent[s.name]))
		}
	}
	slices.Sort(lat)
	t.Logf("write through server 1 to event through servers 2 and 3: p50 %v, p99 %v, max %v",
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	if worst := lat[len(lat)-1]; worst > 5*time.Second {
		t.Errorf("a create took %v to reach another server's watch", worst)
	}
}

// Three servers compacting every 2 s compact etcd about once per 2 s, not
// three times.
func TestServersCompactOncePerInterval(t *testing.T) {
	const interval = 2 * time.Second
	c, _ := startServers(t, 3, "--etcd-compaction-interval", interval.String())
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	first, err := cl.Get(ctx, "compact_rev_key")
	if err != nil {
		t.Fatal(err)
	}
	var v0 int64
	if len(first.Kvs) > 0 {
		v0 = first.Kvs[0].Version
	}
	const window = 10 * time.Second
	time.Sleep(window)
	last, err := cl.Get(ctx, "compact_rev_key")
	if err != nil || len(last.Kvs) == 0 {
		t.Fatalf("compact_rev_key: %v %v", last, err)
	}
	rounds := last.Kvs[0].Version - v0
	t.Logf("%d compaction rounds won in %v by 3 servers with an interval of %v", rounds, window, interval)
	if limit := int64(window/interval) + 2; rounds > limit || rounds < int64(window/interval)-2 {
		t.Errorf("%d compaction rounds in %v, want about %d", rounds, window, window/interval)
	}
}

// Services created at once through three servers get distinct cluster IPs
// and node ports; once the range (10.0.0.0/24) is full, creates fail with
// "range is full", and no address is reserved twice or left behind.
func TestServersAllocateUniquely(t *testing.T) {
	c, rs := startServers(t, 3)
	ns := newNamespace(t, rs[0].Clientset(t))
	const perServer, workers = 200, 4
	results := make(chan svcResult, 3*perServer)
	var wg sync.WaitGroup
	start := time.Now()
	for si, r := range rs {
		cs := r.Clientset(t)
		for w := range workers {
			wg.Go(func() {
				for i := w; i < perServer; i += workers {
					results <- createService(cs, ns, fmt.Sprintf("s%d-%d", si, i))
				}
			})
		}
	}
	wg.Wait()
	close(results)
	took := time.Since(start)
	ips, ports := map[string]string{}, map[int32]string{}
	var ok, full int
	for res := range results {
		switch {
		case res.err == nil:
			ok++
		case strings.Contains(res.err.Error(), "range is full"):
			full++
			continue
		default:
			t.Errorf("%s: %v", res.name, res.err)
			continue
		}
		if other, dup := ips[res.ip]; dup {
			t.Errorf("cluster IP %s given to %s and %s", res.ip, other, res.name)
		}
		if other, dup := ports[res.port]; dup {
			t.Errorf("node port %d given to %s and %s", res.port, other, res.name)
		}
		ips[res.ip], ports[res.port] = res.name, res.name
	}
	t.Logf("%d services created through 3 servers in %v (%.0f/s), %d refused with range is full", ok, took.Round(time.Millisecond), float64(3*perServer)/took.Seconds(), full)
	if ok < 200 {
		t.Errorf("only %d services created", ok)
	}
	// Every reserved address belongs to a created service (plus the
	// kubernetes service's, if any).
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	resp, err := c.Client(t).Get(ctx, "/registry/ipaddresses/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		ip := strings.TrimPrefix(string(kv.Key), "/registry/ipaddresses/")
		if _, mine := ips[ip]; !mine && ip != "10.0.0.1" {
			t.Errorf("IPAddress %s reserved for no created service", ip)
		}
	}
}

// svcResult is the outcome of one service create.
type svcResult struct {
	name, ip string
	port     int32
	err      error
}

func createService(cs kubernetes.Interface, ns, name string) (res svcResult) {
	res.name = name
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort,
			Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		res.err = err
		return res
	}
	res.ip, res.port = svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort
	return res
}
