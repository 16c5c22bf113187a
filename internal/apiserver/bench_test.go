package apiserver_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage"
)

// The benchmarks run each operation through client-go and HTTP against the
// in-process server ("http") and on the storage the registry uses, a
// watch cache over the etcd3 store ("store"), in one run, so that the cost
// of the HTTP layer (negotiation, encoding, the registry's strategy) is a
// visible ratio. Run with:
//
//	go test ./internal/apiserver -run '^$' -bench . -benchtime 2000x

type benchEnv struct {
	s   *testServer
	cs  *kubernetes.Clientset
	pod *registry.Store
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	s := startServer(b)
	st, _ := s.reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "pods"})
	return &benchEnv{s: s, cs: s.clientset(b), pod: st}
}

func benchPod(ns, name string) *corev1.Pod {
	p := testPod(name)
	p.Namespace = ns
	return p
}

func BenchmarkCreate(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	b.Run("http", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := e.cs.CoreV1().Pods("default").Create(ctx, testPod(fmt.Sprint("h", i)), metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := benchPod("default", fmt.Sprint("s", i))
			if err := e.pod.Storage().Create(ctx, "/pods/default/"+p.Name, p, &corev1.Pod{}, 0); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkGet(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	if _, err := e.cs.CoreV1().Pods("default").Create(ctx, testPod("g"), metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Run("http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.cs.CoreV1().Pods("default").Get(ctx, "g", metav1.GetOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := e.pod.Storage().Get(ctx, "/pods/default/g", storage.GetOptions{}, &corev1.Pod{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkList5000 lists 5,000 pods at resourceVersion "0" (any cached
// state) and "" (consistent).
func BenchmarkList5000(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	const n = 5000
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				p := benchPod("default", fmt.Sprintf("pod-%05d", i))
				if err := e.pod.Storage().Create(ctx, "/pods/default/"+p.Name, p, nil, 0); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, rv := range []string{"0", ""} {
		name := "rv=" + rv
		if rv == "" {
			name = "rv=empty"
		}
		b.Run("http/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l, err := e.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{ResourceVersion: rv})
				if err != nil || len(l.Items) != n {
					b.Fatalf("list: %v", err)
				}
			}
		})
		for _, accept := range []string{"json", "protobuf"} {
			b.Run("raw-"+accept+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				u := e.s.URL + "/api/v1/namespaces/default/pods?resourceVersion=" + rv
				for b.Loop() {
					rawGet(b, u, "application/"+map[string]string{"json": "json", "protobuf": "vnd.kubernetes.protobuf"}[accept])
				}
			})
		}
		b.Run("store/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l := &corev1.PodList{}
				err := e.pod.Storage().GetList(ctx, "/pods/default", storage.ListOptions{ResourceVersion: rv,
					Recursive: true, Predicate: storage.Everything}, l)
				if err != nil || len(l.Items) != n {
					b.Fatalf("list: %v", err)
				}
			}
		})
	}
}

// BenchmarkWatchFanout1000 writes one pod per iteration and waits until
// 1,000 watchers have received its event.
func BenchmarkWatchFanout1000(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	const watchers = 1000
	run := func(b *testing.B, open func() (watch.Interface, error)) {
		var received atomic.Int64
		var ws []watch.Interface
		var wg sync.WaitGroup
		for i := 0; i < watchers; i++ {
			w, err := open()
			if err != nil {
				b.Fatal(err)
			}
			ws = append(ws, w)
			wg.Go(func() {
				for range w.ResultChan() {
					received.Add(1)
				}
			})
		}
		defer func() {
			for _, w := range ws {
				w.Stop()
			}
			wg.Wait()
		}()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			want := received.Load() + watchers
			p := benchPod("default", fmt.Sprintf("w-%s-%d", b.Name(), i))
			p.Name = fmt.Sprintf("w%d-%d", time.Now().UnixNano(), i)
			if err := e.pod.Storage().Create(ctx, "/pods/default/"+p.Name, p, nil, 0); err != nil {
				b.Fatal(err)
			}
			for received.Load() < want {
				time.Sleep(50 * time.Microsecond)
			}
			i++
		}
	}
	b.Run("http", func(b *testing.B) {
		l, err := e.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		run(b, func() (watch.Interface, error) {
			return e.cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
		})
	})
	b.Run("raw-json", func(b *testing.B) {
		l, err := e.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		u := e.s.URL + "/api/v1/namespaces/default/pods?watch=1&resourceVersion=" + l.ResourceVersion
		run(b, func() (watch.Interface, error) { return rawWatch(ctx, u) })
	})
	b.Run("store", func(b *testing.B) {
		run(b, func() (watch.Interface, error) {
			f := false
			return e.pod.Storage().Watch(ctx, "/pods/default", storage.ListOptions{ResourceVersion: "0", SendInitialEvents: &f,
				Recursive: true, Predicate: storage.Everything})
		})
	})
}

// rawClient reads responses without decoding them, so that the benchmarks
// show the server's cost apart from client-go's decoding.
// rawClient measures the server's cost of the bytes themselves: it does
// not ask for gzip (Go's transport would, and lists over 128 KiB would be
// compressed, as client-go's are).
var rawClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxConnsPerHost: 0, DisableCompression: true}}

func rawGet(b *testing.B, url, accept string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", accept)
	resp, err := rawClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("list: %v %d", err, resp.StatusCode)
	}
}

// rawWatch is a watch whose events are newline-delimited JSON frames,
// counted and not decoded: each frame is delivered as an empty event.
func rawWatch(ctx context.Context, url string) (watch.Interface, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := rawClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	ch := make(chan watch.Event, 100)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		br := bufio.NewReaderSize(resp.Body, 64<<10)
		for {
			if _, err := br.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
				return
			} else if err == nil {
				ch <- watch.Event{Type: watch.Modified}
			}
		}
	}()
	return &rawWatcher{ch: ch, cancel: cancel}, nil
}

type rawWatcher struct {
	ch     chan watch.Event
	cancel context.CancelFunc
}

func (w *rawWatcher) Stop()                          { w.cancel() }
func (w *rawWatcher) ResultChan() <-chan watch.Event { return w.ch }
