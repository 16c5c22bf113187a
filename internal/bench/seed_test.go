package bench

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/server"
	"github.com/regis-dev/regis/registest"
)

// TestSeedAndExisting seeds pods into an in-process regis's etcd and a
// second etcd, then loads them with Config.Namespace: every phase sees
// every seeded pod, and the namespace stays.
func TestSeedAndExisting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	srv, err := registest.Start(ctx, registest.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	o := server.DefaultOptions()
	o.DataDir = dir
	conn, err := server.ConnectEtcd(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	other := etcdtest.New(t).Client(t)

	const n = 250
	seed := SeedConfig{Config: srv.Config(), Etcd: conn.Client, Prefix: "/registry", Copies: []*clientv3.Client{other}, Namespace: "seeded", Pods: n}
	if err := Seed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	resp, err := other.Get(ctx, "/registry/pods/seeded/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count != n {
		t.Fatalf("the copy holds %v pods (%v), want %d", resp, err, n)
	}
	if resp, err := other.Get(ctx, "/registry/namespaces/seeded"); err != nil || resp.Count != 1 {
		t.Fatalf("the copy's namespace: %v %v", resp, err)
	}
	if err := Seed(ctx, seed); err == nil {
		t.Error("seeding an existing namespace again succeeded")
	}

	cfg := DefaultConfig()
	cfg.Namespace = "seeded"
	cfg.Writers, cfg.Gets, cfg.ListRepeats, cfg.PageSize = 3, 10, 1, 100
	cfg.Watchers, cfg.Updates = 2, 3
	cfg.Phases = []string{PhaseGet, PhaseList, PhasePaged, PhaseInformer, PhaseWatch}
	cfg.Targets = []Target{{Name: "a", Config: srv.Config()}}
	results, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	for _, r := range results {
		got[r.Phase] = r
	}
	if r := got[PhaseExisting]; r.Items != n {
		t.Errorf("existing: %d pods, want %d", r.Items, n)
	}
	if _, ok := got[PhaseCreate]; ok {
		t.Error("pods were created")
	}
	for _, p := range []string{"list-rv-empty", "list-rv-0", PhaseInformer} {
		if r := got[p]; r.Items != n {
			t.Errorf("%s: %d items, want %d", p, r.Items, n)
		}
	}
	if w := got[PhaseWatch].Watch; w == nil || !w.Complete {
		t.Errorf("watch: %+v", w)
	}
	cs := kubernetes.NewForConfigOrDie(srv.Config())
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "seeded", metav1.GetOptions{}); err != nil {
		t.Errorf("the seeded namespace after the run: %v", err)
	}
}
