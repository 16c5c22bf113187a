package sizing_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/ops/sizing"
	"github.com/regis-dev/regis/internal/ops/source"
)

var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

// TestRecommendAtTheSeedsBoundaries: the tiers change exactly at the
// seed's table's bounds (50 and 200 nodes; 1000 and 5000 pods).
func TestRecommendAtTheSeedsBoundaries(t *testing.T) {
	for _, c := range []struct {
		nodes, pods int64
		want        string
		beyond      bool
	}{
		{0, 0, "Small", false}, {10, 999, "Small", false}, {50, 999, "Small", false},
		{51, 0, "Medium", false}, {10, 1000, "Medium", false}, {200, 4999, "Medium", false},
		{201, 0, "Large", false}, {10, 5000, "Large", false}, {1000, 49999, "Large", false},
		{1001, 0, "Large", true}, {10, 50000, "Large", true},
	} {
		r := sizing.Recommend(c.nodes, c.pods)
		if r.Name != c.want || r.Beyond != c.beyond {
			t.Errorf("%d nodes %d pods: %s (beyond %v), want %s (%v): %s", c.nodes, c.pods, r.Name, r.Beyond, c.want, c.beyond, r.DrivenBy)
		}
	}
	r := sizing.Recommend(40, 900)
	if r.Members != 3 || r.CPU != 2 || r.MemoryGB != 8 || r.DiskGB != 50 || !strings.Contains(r.Headroom, "100 more pods") {
		t.Fatalf("Small: %+v", r)
	}
	if r := sizing.Recommend(300, 100); r.Members != 5 || !strings.Contains(r.DrivenBy, "nodes 300: past Medium") {
		t.Fatalf("Large: %+v", r)
	}
}

// populate writes nodes and pods (and churn on events) under prefix.
func populate(t *testing.T, c *clientv3.Client, prefix string, nodes, pods, eventWrites int) {
	t.Helper()
	ops := make([]clientv3.Op, 0, 128)
	flush := func() {
		if _, err := c.Txn(t.Context()).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
		ops = ops[:0]
	}
	add := func(key string, size int) {
		ops = append(ops, clientv3.OpPut(prefix+key, "k8s\x00"+strings.Repeat("x", size)))
		if len(ops) == cap(ops) {
			flush()
		}
	}
	for i := range nodes {
		add(fmt.Sprintf("/minions/node-%d", i), 300)
	}
	for i := range pods {
		add(fmt.Sprintf("/pods/ns%d/pod-%d", i%7, i), 200)
	}
	flush()
	for i := range eventWrites {
		add(fmt.Sprintf("/events/ns/e%d", i%100), 100)
		if i%100 == 99 {
			flush()
		}
	}
	add("/configmaps/ns/big", 1<<20+10)
	flush()
}

// TestMeasurePicksTiers: generated populations at the seed's boundaries
// get Small, Medium and Large, live and from a snapshot; revisions held,
// the largest objects and churn warnings are found.
func TestMeasurePicksTiers(t *testing.T) {
	c := srv.Client(t)
	for i, p := range []struct {
		nodes, pods int
		want        string
	}{{50, 999, "Small"}, {51, 10, "Medium"}, {10, 1000, "Medium"}, {201, 10, "Large"}} {
		prefix := fmt.Sprintf("/sizing%d", i)
		populate(t, c, prefix, p.nodes, p.pods, 3000)
		rep, err := sizing.Measure(t.Context(), &source.Live{KV: c, Watcher: c}, sizing.Options{EtcdPrefix: prefix, History: true})
		if err != nil {
			t.Fatal(err)
		}
		rep.AddDB(sizing.DB{Member: "m", Size: 1900 << 20, InUse: 100 << 20})
		rep.Finish(0)
		if rep.Recommendation.Name != p.want || rep.Nodes != int64(p.nodes) || rep.Pods != int64(p.pods) {
			t.Fatalf("%d nodes %d pods: %+v", p.nodes, p.pods, rep.Recommendation)
		}
		if rep.Objects != int64(p.nodes+p.pods+101) || rep.Revisions != int64(p.nodes+p.pods+3001) {
			t.Fatalf("objects %d revisions %d", rep.Objects, rep.Revisions)
		}
		if rep.Largest[0].Key != prefix+"/configmaps/ns/big" {
			t.Fatalf("largest: %+v", rep.Largest[:2])
		}
		all := strings.Join(rep.Warnings, "\n")
		for _, w := range []string{"over 1 MiB", "--etcd-servers-overrides=/events#", "% of the quota", "free pages"} {
			if !strings.Contains(all, w) {
				t.Fatalf("warnings lack %q:\n%s", w, all)
			}
		}
	}
}

func TestRatesFromMetrics(t *testing.T) {
	scrape := func(pods, deploys, watches int) []sizing.Sample {
		text := fmt.Sprintf(`# HELP apiserver_request_total x
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} %d
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="cluster",subresource="",verb="LIST",version="v1"} %d
apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="cluster",subresource="",verb="WATCH",version="v1"} %d
other_metric 3
`, pods, deploys, watches)
		s, err := sizing.ParseMetrics(strings.NewReader(text), sizing.MetricRequests, sizing.MetricLongRunning)
		if err != nil || len(s) != 3 {
			t.Fatalf("%v %v", s, err)
		}
		return s
	}
	r := sizing.Rates(scrape(10, 5, 1), scrape(30, 25, 4), 10)
	if r["pods"].WritesPerS != 2 || r["pods"].Watches != 4 || r["deployments.apps"].ReadsPerS != 2 {
		t.Fatalf("%+v", r)
	}
}
