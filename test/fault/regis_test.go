package fault_test

import (
	"context"
	"maps"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

// TestRegisKilledEmbedded kills `regis serve` (and with it its embedded
// etcd) with SIGKILL under a write load and starts it again on the same
// data directory.
func TestRegisKilledEmbedded(t *testing.T) {
	r := cluster.NewRegis(t, "regis", filepath.Join(t.TempDir(), "data"))
	r.StartReady(t, 90*time.Second)
	regisKilled(t, r, nil)
}

// TestRegisKilledCluster kills `regis serve` on a 3-member etcd cluster
// with SIGKILL under a write load and starts it again.
func TestRegisKilledCluster(t *testing.T) {
	c := cluster.StartCluster(t, 3)
	r := cluster.StartRegis(t, "regis", filepath.Join(t.TempDir(), "data"), c.EtcdFlags()...)
	regisKilled(t, r, c)
}

// regisKilled runs a write load and an informer through r, kills r, starts
// it again, and checks that every acknowledged write is there and that the
// informer converges to a fresh list; it logs the restart-to-ready time.
func regisKilled(t *testing.T, r *cluster.Regis, c *cluster.Cluster) {
	cs := r.Clientset(t)
	ns := newNamespace(t, cs)
	inf := startInformer(t, cs, ns)
	started := time.Now()
	l := startLoad(t, ns, 4, r.Config(t))
	l.waitAcked(t, 100, 30*time.Second)

	killed := time.Now()
	r.Kill()
	time.Sleep(500 * time.Millisecond) // clients fail meanwhile
	toReady := r.StartReady(t, 60*time.Second)
	ready := time.Now()
	l.waitAcked(t, 100, 30*time.Second)
	end := time.Now()
	l.halt()
	t.Logf("before: %v", l.stats(started, killed))
	t.Logf("killed until ready: %v; restart to ready %v", killed.Sub(ready).Abs().Round(time.Millisecond), toReady.Round(time.Millisecond))
	t.Logf("after: %v", l.stats(ready, end))

	fresh := listState(t, cs, ns)
	n := l.checkState(t, dataOf(fresh))
	t.Logf("%d names checked, %d writes failed (first: %v)", n, l.failed, l.firstErr)
	if c != nil {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		resp, err := c.Client(t).Get(ctx, "/registry/configmaps/"+ns+"/", withPrefixCount()...)
		if err != nil || resp.Count != int64(len(fresh)) {
			t.Errorf("etcd has %v configmaps (%v), the list %d", resp.Count, err, len(fresh))
		}
	}

	// The informer converges to the fresh list (names and versions).
	deadline := time.Now().Add(45 * time.Second)
	for {
		got := informerState(inf)
		if maps.Equal(got, fresh) {
			t.Logf("informer converged %v after ready (%d objects)", time.Since(ready).Round(time.Millisecond), len(got))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("informer has %d objects, the list %d, 45s after the restart", len(got), len(fresh))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startInformer runs a configmap informer of ns until t ends.
func startInformer(t testing.TB, cs kubernetes.Interface, ns string) cache.SharedIndexInformer {
	t.Helper()
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().ConfigMaps().Informer()
	stop := make(chan struct{})
	f.Start(stop)
	t.Cleanup(func() { close(stop); f.Shutdown() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	return inf
}

// objState is what is compared of an object: its data and version.
type objState struct{ v, rv string }

func informerState(inf cache.SharedIndexInformer) map[string]objState {
	out := map[string]objState{}
	for _, o := range inf.GetStore().List() {
		cm := o.(*corev1.ConfigMap)
		out[cm.Name] = objState{cm.Data["v"], cm.ResourceVersion}
	}
	return out
}

func listState(t testing.TB, cs kubernetes.Interface, ns string) map[string]objState {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]objState{}
	for _, cm := range list.Items {
		out[cm.Name] = objState{cm.Data["v"], cm.ResourceVersion}
	}
	return out
}

func dataOf(s map[string]objState) map[string]string {
	out := map[string]string{}
	for k, v := range s {
		out[k] = v.v
	}
	return out
}
