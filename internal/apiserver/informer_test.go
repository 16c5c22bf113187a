package apiserver_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/pager"
)

// createParallel runs n creations on 8 workers.
func createParallel(t *testing.T, n int, create func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Value
	next := atomic.Int64{}
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := create(i); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		t.Fatalf("create: %v", err)
	}
}

// TestInformerSyncsAndSeesChanges runs a SharedInformerFactory (client-go's
// watch-list by default) over 1,000 pods, then checks that it sees every
// add, update and delete.
func TestInformerSyncsAndSeesChanges(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	const n = 1000
	createParallel(t, n, func(i int) error {
		_, err := cs.CoreV1().Pods("default").Create(ctx, testPod(fmt.Sprintf("pod-%04d", i)), metav1.CreateOptions{})
		return err
	})

	var adds, updates, deletes atomic.Int64
	factory := informers.NewSharedInformerFactory(cs, 0)
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { adds.Add(1) },
		UpdateFunc: func(any, any) { updates.Add(1) },
		DeleteFunc: func(any) { deletes.Add(1) },
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer func() { close(stop); factory.Shutdown() }()
	factory.Start(stop)
	start := time.Now()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	t.Logf("informer synced %d pods in %v", len(inf.GetStore().List()), time.Since(start))
	if got := len(inf.GetStore().List()); got != n {
		t.Fatalf("informer has %d pods, want %d", got, n)
	}

	for i := 0; i < 10; i++ {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, testPod(fmt.Sprintf("new-%d", i)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		p, err := cs.CoreV1().Pods("default").Get(ctx, fmt.Sprintf("pod-%04d", i), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Labels["changed"] = "yes"
		if _, err := cs.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().Pods("default").Delete(ctx, fmt.Sprintf("pod-%04d", 100+i), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, func() bool {
		return adds.Load() == n+10 && updates.Load() == 10 && deletes.Load() == 10
	}, func() string {
		return fmt.Sprintf("adds %d updates %d deletes %d", adds.Load(), updates.Load(), deletes.Load())
	})
	if got := len(inf.GetStore().List()); got != n {
		t.Fatalf("informer has %d pods, want %d", got, n)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", state())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPaging lists 2,500 config maps in pages of 500 with limit/continue.
func TestPaging(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	const n = 2500
	createParallel(t, n, func(i int) error {
		_, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%04d", i)}, Data: map[string]string{"i": fmt.Sprint(i)}}, metav1.CreateOptions{})
		return err
	})
	first, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 500 || first.Continue == "" || first.RemainingItemCount == nil || *first.RemainingItemCount != n-500 {
		t.Fatalf("first page: %d items, continue %q, remaining %v", len(first.Items), first.Continue, first.RemainingItemCount)
	}
	seen := map[string]bool{}
	pages := 0
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		pages++
		return cs.CoreV1().ConfigMaps("default").List(ctx, opts)
	})
	p.PageSize = 500
	if err := p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		seen[obj.(*corev1.ConfigMap).Name] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n || pages != n/500 {
		t.Fatalf("paged %d distinct items in %d pages, want %d in %d", len(seen), pages, n, n/500)
	}
}

// TestProtobufAndCBORClients does CRUD and a watch with client-go speaking
// protobuf and CBOR.
func TestProtobufAndCBORClients(t *testing.T) {
	s := startServer(t)
	for _, ct := range []string{"application/vnd.kubernetes.protobuf", "application/cbor"} {
		t.Run(ct, func(t *testing.T) {
			cfg := *s.config
			cfg.ContentType = ct
			cfg.AcceptContentTypes = ct
			cs, err := kubernetes.NewForConfig(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			name := "p-" + fmt.Sprint(len(ct))
			w, err := cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			p, err := cs.CoreV1().Pods("default").Create(ctx, testPod(name), metav1.CreateOptions{})
			if err != nil || p.Spec.Containers[0].TerminationMessagePath == "" {
				t.Fatalf("create: %v %v", p, err)
			}
			if _, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-w.ResultChan():
				if e.Type != "ADDED" || e.Object.(*corev1.Pod).Name != name {
					t.Fatalf("watch event %v %T", e.Type, e.Object)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no watch event")
			}
			if err := cs.CoreV1().Pods("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
