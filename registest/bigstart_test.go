//go:build bigstart

package registest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/server"
	"github.com/regis-dev/regis/registest"
)

// TestBigStart (make bigstart; BIGSTART_PODS, 100,000 by default) writes
// that many pods of bench's shape into a data dir's etcd (or, given
// BIGSTART_DIR, copies the one seeded there once: BIGSTART_DIR/<pods>),
// then times a start on it: to the API served, to /readyz, a list of
// every pod from the cache and a pod informer's sync (the start only with
// BIGSTART_STARTONLY).
func TestBigStart(t *testing.T) {
	n := 100000
	if s := os.Getenv("BIGSTART_PODS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	ctx := t.Context()
	if keep := os.Getenv("BIGSTART_DIR"); keep != "" {
		seeded := filepath.Join(keep, strconv.Itoa(n))
		if _, err := os.Stat(seeded); err != nil {
			seedPods(t, ctx, dir, n)
			copyDir(t, dir, seeded)
		} else {
			dir = filepath.Join(dir, "data")
			copyDir(t, seeded, dir)
		}
	} else {
		seedPods(t, ctx, dir, n)
	}

	syscall.Sync() // the data on disk, as a stopped server's is
	runtime.GC()
	if path := os.Getenv("BIGSTART_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	opts := registest.Options{Dir: dir}
	if os.Getenv("BIGSTART_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts.Logger.Debug("bigstart: starting")
	}
	start := time.Now()
	s, err := registest.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	served := time.Since(start)
	waitReadyz(t, s)
	ready := time.Since(start)
	t.Logf("%d pods: API served %.2fs after the start, /readyz %.2fs", n, served.Seconds(), ready.Seconds())
	if os.Getenv("BIGSTART_STARTONLY") != "" {
		return
	}

	cs := kubernetes.NewForConfigOrDie(s.Config())
	for _, rv := range []string{"0", ""} {
		t0 := time.Now()
		l, err := cs.CoreV1().Pods("big").List(ctx, metav1.ListOptions{ResourceVersion: rv})
		if err != nil || len(l.Items) != n {
			t.Fatalf("list at RV %q: %v items, %v", rv, len(l.Items), err)
		}
		t.Logf("list of %d pods at RV %q: %.2fs after /readyz (client decoding included)", n, rv, time.Since(t0).Seconds())
		pprof.StopCPUProfile() // the profile covers the start, the fill and the first list
	}
	t0 := time.Now()
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("big"))
	inf := f.Core().V1().Pods().Informer()
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.Start(ictx.Done())
	if !cache.WaitForCacheSync(ictx.Done(), inf.HasSynced) || len(inf.GetStore().ListKeys()) != n {
		t.Fatal("informer did not sync")
	}
	t.Logf("pod informer synced %d pods in %.2fs", n, time.Since(t0).Seconds())
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use after GC (server, its embedded etcd and this test's informer): %d MB", ms.HeapInuse>>20)
}

// copyDir copies the data dir from to to, keeping its modes.
func copyDir(t *testing.T, from, to string) {
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v: %s", from, to, err, out)
	}
}

// seedPods writes n pods to namespace big: one created through the API,
// the others as copies of its stored bytes with their own name and uid,
// put straight into etcd.
func seedPods(t *testing.T, ctx context.Context, dir string, n int) {
	s, err := registest.Start(ctx, registest.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(s.Config())
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "big"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("big").Create(ctx, bigPod(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: server.EmbeddedEtcdDir(dir), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c, err := etcd.NewClient([]string{e.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Get(ctx, "/registry/pods/big/big-000000")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("stored pod: %v %v", resp, err)
	}
	ser := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	obj, _, err := ser.Decode(resp.Kvs[0].Value, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := obj.(*corev1.Pod)
	t0 := time.Now()
	var next atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			var buf bytes.Buffer
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				p := tmpl.DeepCopy()
				p.Name = fmt.Sprintf("big-%06d", i)
				p.UID = types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
				buf.Reset()
				if err := ser.Encode(p, &buf); err != nil {
					errs <- err
					return
				}
				if _, err := c.Put(ctx, "/registry/pods/big/"+p.Name, buf.String()); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("seeded %d pods of %d bytes in %.1fs", n, len(resp.Kvs[0].Value), time.Since(t0).Seconds())
}

func bigPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "big-000000", Labels: map[string]string{"app.kubernetes.io/name": "big", "pod-template-hash": "5d8f7c9b6"},
			Annotations: map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10", Command: []string{"/pause"},
				Args:  []string{"--listen=:8080", "--log-level=info"},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Env:   []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "C", Value: "3"}}}},
			NodeSelector: map[string]string{"kubernetes.io/os": "linux"}, SchedulerName: "none",
		},
	}
}

func waitReadyz(t *testing.T, s *registest.Server) {
	tr, err := rest.TransportFor(s.Config())
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: tr}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := hc.Get(s.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("not ready after 2 minutes")
}

// TestBigStartEtcd times the embedded etcd's open alone, fsync on, on a
// copy of the data dir seeded under BIGSTART_DIR by TestBigStart, written
// to disk first (a data dir of a server that stopped), and splits it by
// etcd's log lines (all of them on stderr with BIGSTART_LOG; a CPU profile
// to BIGSTART_CPUPROFILE).
func TestBigStartEtcd(t *testing.T) {
	n := 100000
	if s := os.Getenv("BIGSTART_PODS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	seeded := filepath.Join(os.Getenv("BIGSTART_DIR"), strconv.Itoa(n))
	if _, err := os.Stat(seeded); err != nil {
		t.Skip("no data dir seeded under BIGSTART_DIR: run TestBigStart with it first")
	}
	dir := filepath.Join(t.TempDir(), "data")
	copyDir(t, seeded, dir)
	syscall.Sync()
	runtime.GC()
	var out slog.Handler = slog.DiscardHandler
	if os.Getenv("BIGSTART_LOG") != "" {
		out = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	steps := &stepLog{Handler: out, seen: &seen{at: map[string]time.Time{}}}
	cfg := etcd.EmbeddedConfig{DataDir: server.EmbeddedEtcdDir(dir), Logger: slog.New(steps), LogLevel: "debug"}
	if path := os.Getenv("BIGSTART_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime()
	start := time.Now()
	e, err := etcd.StartEmbedded(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ready := time.Now()
	cpu := cpuTime() - cpu0
	e.Close()
	var b strings.Builder
	last := start
	for _, s := range etcdSteps {
		at, ok := steps.first(s.msg)
		if !ok {
			continue
		}
		fmt.Fprintf(&b, " %s %.0f ms,", s.name, float64(at.Sub(last).Microseconds())/1000)
		last = at
	}
	fmt.Fprintf(&b, " ready %.0f ms", float64(ready.Sub(last).Microseconds())/1000)
	t.Logf("%d pods: embedded etcd ready in %.3fs (CPU %.3fs):%s", n, ready.Sub(start).Seconds(), cpu.Seconds(), b.String())
}

// etcdSteps are etcd's log lines that end each step of its start, in order.
var etcdSteps = []struct{ name, msg string }{
	{"bbolt open (mmap populated)", "opened backend db"},
	// Meanwhile the backend's first commit rebuilds bbolt's freelist
	// (etcd opens it with NoFreelistSync), walking every page: ~0.1 s.
	{"WAL snapshot records read", "constructed a snapshot from WAL record"},
	{"WAL entries read", "restarting local member"},
	{"mvcc index restored", "kvstore restored"},
	{"listening", "started as single-node; fast-forwarding election ticks"},
	{"elected", "became leader at term"},
}

// stepLog records when each message was first logged.
type stepLog struct {
	slog.Handler
	*seen
}

type seen struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (h *stepLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *stepLog) Handle(ctx context.Context, r slog.Record) error {
	msg := r.Message
	if i := strings.Index(msg, "became leader at term"); i >= 0 {
		msg = msg[i : i+len("became leader at term")]
	}
	h.mu.Lock()
	if _, ok := h.at[msg]; !ok {
		h.at[msg] = r.Time
	}
	h.mu.Unlock()
	if h.Handler.Enabled(ctx, r.Level) {
		return h.Handler.Handle(ctx, r)
	}
	return nil
}

func (h *stepLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &stepLog{Handler: h.Handler.WithAttrs(as), seen: h.seen}
}

func (s *seen) first(msg string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[msg]
	return t, ok
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
