package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/registest"
)

// TestRunAgainstRegis runs the whole load, tiny, against an in-process
// regis (as its own --compare too) with a raw etcd baseline, and checks
// the JSON lines and the watch completeness; no timing is asserted.
func TestRunAgainstRegis(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := registest.Start(ctx, registest.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	e := etcdtest.New(t)

	cfg := DefaultConfig()
	cfg.Pods, cfg.Writers, cfg.Gets, cfg.ListRepeats, cfg.PageSize = 12, 3, 10, 2, 5
	cfg.Watchers, cfg.Updates, cfg.UpdateWriters = 4, 6, 2
	cfg.WatchTimeout = 30 * time.Second
	cfg.Etcd = e.Client(t)
	cfg.Targets = []Target{
		{Name: "a", Config: srv.Config(), Pid: os.Getpid()},
		{Name: "b", Config: srv.Config()},
	}
	var lines bytes.Buffer
	results, err := Run(ctx, cfg, JSONLines(&lines))
	if err != nil {
		t.Fatal(err)
	}

	// Every run's namespace is gone.
	cs, err := kubernetes.NewForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss.Items {
		if strings.HasPrefix(ns.Name, cfg.NamespacePrefix) {
			t.Errorf("namespace %s left behind (%s)", ns.Name, ns.Status.Phase)
		}
	}

	got := map[string]Result{}
	sc := bufio.NewScanner(&lines)
	for sc.Scan() {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got[r.Target+"/"+r.Phase] = r
	}
	if len(got) != len(results) {
		t.Errorf("%d distinct lines, %d results", len(got), len(results))
	}
	for _, key := range []string{"a/idle", "a/create", "a/get", "a/list-rv-empty", "a/list-rv-0", "a/paged", "a/informer", "a/watch",
		"b/create", "b/watch", "etcd/etcd-put", "etcd/etcd-get", "etcd/etcd-range"} {
		if _, ok := got[key]; !ok {
			t.Errorf("no JSON line for %s", key)
		}
	}
	if r := got["a/create"]; r.Ops != 12 || r.Errors != 0 || r.ContentType != "protobuf" {
		t.Errorf("create: %+v", r)
	}
	if r := got["a/create"]; r.ServerCPUSec <= 0 && r.ServerRSSBytes == 0 {
		t.Errorf("create: no server figures from /proc: %+v", r)
	}
	for _, p := range []string{"a/list-rv-empty", "a/list-rv-0"} {
		if r := got[p]; r.Ops != 2 || r.Items != 12 || r.WireBytes <= 0 || r.BodyBytes <= 0 {
			t.Errorf("%s: %+v", p, r)
		}
	}
	if r := got["a/paged"]; r.Items != 12 || r.Ops != 2*3 { // 12 pods in pages of 5, twice
		t.Errorf("paged: %+v", r)
	}
	if r := got["a/informer"]; r.Items != 12 || r.Ops != 2 {
		t.Errorf("informer: %+v", r)
	}
	for _, p := range []string{"a/watch", "b/watch"} {
		r := got[p]
		if r.Watch == nil || !r.Watch.Complete || r.Watch.CompleteWatchers != 4 || r.Watch.Expected != 6 || r.Items != 4*6 {
			t.Errorf("%s: %+v %+v", p, r, r.Watch)
		}
	}
	if r := got["etcd/etcd-range"]; r.Items != 12 || r.Ops != 2 {
		t.Errorf("etcd-range: %+v", r)
	}

	var sum strings.Builder
	if err := Summary(&sum, cfg, results); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"complete (4/4)", "a / b", "server / raw etcd"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	if t.Failed() {
		t.Log(sum.String())
	}

	// JSON: the watchers read the other stream format.
	cfg.ContentType, cfg.Phases, cfg.Etcd = "json", []string{PhaseList, PhaseWatch}, nil
	cfg.Targets = cfg.Targets[:1]
	results, err = Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Phase == "watch" && (r.Watch == nil || !r.Watch.Complete || r.ContentType != "json") {
			t.Errorf("JSON watch: %+v %+v", r, r.Watch)
		}
		if r.Phase == "get" || r.Phase == "paged" {
			t.Errorf("phase %s ran, not asked for", r.Phase)
		}
	}
}

func TestCheck(t *testing.T) {
	acks := map[uint64]time.Time{10: {}, 11: {}, 12: {}}
	w := func(rvs ...uint64) *watcher {
		var got []receipt
		for _, rv := range rvs {
			got = append(got, receipt{rv: rv})
		}
		return &watcher{got: got}
	}
	c := check([]*watcher{w(10, 11, 12), w(10, 12), w(10, 11, 11, 12), w(11, 10, 12), w(10, 11, 12, 99)}, acks)
	want := WatchCheck{Watchers: 5, Expected: 3, CompleteWatchers: 1, Missing: 1, Duplicates: 1, OutOfOrder: 1, Unexpected: 1}
	if *c != want {
		t.Errorf("check = %+v, want %+v", *c, want)
	}
}

func TestParseProc(t *testing.T) {
	stat := []byte("1234 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 5 0 100 2000000 300")
	cpu, err := parseStatCPU(stat)
	if err != nil || cpu != 4 {
		t.Errorf("parseStatCPU = %v, %v; want 4 s", cpu, err)
	}
	if kb := parseStatusKB([]byte("Name:\tx\nVmRSS:\t  5120 kB\n"), "VmRSS:"); kb != 5120 {
		t.Errorf("VmRSS = %d", kb)
	}
	if s := sampleProc(os.Getpid()); !s.ok || s.rss == 0 {
		t.Errorf("sampleProc(self) = %+v", s)
	}
}

func TestMedians(t *testing.T) {
	in := []Result{
		{Target: "a", Phase: "create", Round: 1, PerSec: 100, P50ms: 3},
		{Target: "a", Phase: "create", Round: 2, PerSec: 300, P50ms: 1},
		{Target: "a", Phase: "create", Round: 3, PerSec: 200, P50ms: 2},
		{Target: "a", Phase: "watch", Round: 1, Watch: &WatchCheck{Watchers: 2, CompleteWatchers: 2, Complete: true}},
		{Target: "a", Phase: "watch", Round: 2, Watch: &WatchCheck{Watchers: 2, CompleteWatchers: 1, Missing: 1}},
	}
	out := Medians(in)
	if len(out) != 2 {
		t.Fatalf("%d results, want 2", len(out))
	}
	if c := out[0]; c.PerSec != 200 || c.P50ms != 2 {
		t.Errorf("create median: %+v", c)
	}
	if w := out[1].Watch; w.Complete || w.Watchers != 4 || w.CompleteWatchers != 3 || w.Missing != 1 {
		t.Errorf("watch check summed: %+v", w)
	}
}
