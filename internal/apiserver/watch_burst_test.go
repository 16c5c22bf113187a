package apiserver_test

import (
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestWatchBurstsExactlyOnceInOrder writes from 8 writers at once while
// client-go watchers read over HTTP/2 and TLS, in protobuf and JSON, some
// of them slowly so that events queue up and go out in bursts: every
// watcher gets every write exactly once, in resourceVersion order.
func TestWatchBurstsExactlyOnceInOrder(t *testing.T) {
	s := startServer(t)
	hs := httptest.NewUnstartedServer(s.api)
	hs.EnableHTTP2 = true
	hs.StartTLS()
	t.Cleanup(hs.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw})
	ctx := t.Context()
	clients := map[string]*kubernetes.Clientset{}
	for _, ct := range []string{"application/vnd.kubernetes.protobuf", "application/json"} {
		cs, err := kubernetes.NewForConfig(&rest.Config{Host: hs.URL, QPS: -1, ContentConfig: rest.ContentConfig{ContentType: ct},
			TLSClientConfig: rest.TLSClientConfig{CAData: ca}})
		if err != nil {
			t.Fatal(err)
		}
		clients[ct] = cs
	}
	cms := clients["application/json"].CoreV1().ConfigMaps("default")
	l, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 8, 30
	type result struct {
		name string
		rvs  []uint64
		err  error
	}
	results := make(chan result)
	var watchers sync.WaitGroup
	n := 0
	for ct, cs := range clients {
		for i := range 6 {
			w, err := cs.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{
				ResourceVersion: l.ResourceVersion, LabelSelector: "burst=1", AllowWatchBookmarks: true})
			if err != nil {
				t.Fatal(err)
			}
			n++
			slow := i%2 == 1 // reads slowly: the server's queue fills
			watchers.Go(func() {
				defer w.Stop()
				r := result{name: fmt.Sprintf("%s #%d", ct, i)}
				defer func() { results <- r }()
				timeout := time.After(60 * time.Second)
				for len(r.rvs) < writers*perWriter*2 {
					select {
					case e, ok := <-w.ResultChan():
						if !ok {
							r.err = fmt.Errorf("closed after %d events", len(r.rvs))
							return
						}
						if e.Type == watch.Bookmark {
							continue
						}
						cm, ok := e.Object.(*corev1.ConfigMap)
						if !ok {
							r.err = fmt.Errorf("event %s %T", e.Type, e.Object)
							return
						}
						rv, _ := strconv.ParseUint(cm.ResourceVersion, 10, 64)
						r.rvs = append(r.rvs, rv)
						if slow && len(r.rvs)%10 == 0 {
							time.Sleep(20 * time.Millisecond)
						}
					case <-timeout:
						r.err = fmt.Errorf("%d events in 60s", len(r.rvs))
						return
					}
				}
				// Nothing more may come: no write is left.
				select {
				case e := <-w.ResultChan():
					if e.Type != watch.Bookmark {
						r.err = fmt.Errorf("an extra %s event", e.Type)
					}
				case <-time.After(300 * time.Millisecond):
				}
			})
		}
	}

	// Each writer creates its config maps and updates each once.
	var mu sync.Mutex
	written := map[uint64]bool{}
	var ws sync.WaitGroup
	for w := range writers {
		ws.Go(func() {
			for i := range perWriter {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("b-%d-%d", w, i),
					Labels: map[string]string{"burst": "1"}}, Data: map[string]string{"k": "v"}}
				created, err := cms.Create(ctx, cm, metav1.CreateOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				created.Data["k"] = "w"
				updated, err := cms.Update(ctx, created, metav1.UpdateOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, o := range []*corev1.ConfigMap{created, updated} {
					rv, _ := strconv.ParseUint(o.ResourceVersion, 10, 64)
					written[rv] = true
				}
				mu.Unlock()
			}
		})
	}
	ws.Wait()
	go func() { watchers.Wait(); close(results) }()
	for r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.name, r.err)
			continue
		}
		for i, rv := range r.rvs {
			if !written[rv] || (i > 0 && rv <= r.rvs[i-1]) {
				t.Errorf("%s: event %d at %d: not a write, or out of order (after %d)", r.name, i, rv, r.rvs[max(0, i-1)])
				break
			}
		}
		if len(r.rvs) != len(written) {
			t.Errorf("%s: %d events, %d writes", r.name, len(r.rvs), len(written))
		}
	}
	if n == 0 || len(written) != writers*perWriter*2 {
		t.Fatalf("%d watchers, %d writes", n, len(written))
	}
}
