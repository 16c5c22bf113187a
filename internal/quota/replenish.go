package quota

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
)

// Replenishment, as upstream's replenishment controller: the resources
// some quota measures are watched from now on, and a deletion, or a pod
// turning Succeeded or Failed, queues the quotas of its namespace, so
// that their usage goes down soon after, whoever deleted the object
// (a user through any server, the garbage collector, a finalizer
// removed).

// watches are the replenishment watches of a running controller.
type watches struct {
	ctx     context.Context // the controller's Run
	wg      *sync.WaitGroup // owns the watches' goroutines
	mu      sync.Mutex
	running map[schema.GroupResource]bool
}

// ensureWatches starts the watch of each resource that a limit of hard
// is measured from, if not running yet.
func (c *Controller) ensureWatches(hard []corev1.ResourceName) {
	w := c.watches
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for gr := range c.evaluatorsFor(hard) {
		if w.running[gr] || c.storeOf(gr) == nil { // not served (yet): the next sync looks again
			continue
		}
		w.running[gr] = true
		w.wg.Go(func() {
			c.watchResource(w.ctx, gr)
			w.mu.Lock()
			delete(w.running, gr)
			w.mu.Unlock()
		})
	}
}

// watchResource watches gr until ctx ends or gr is no longer served
// (a custom resource removed), from the current state (no events for
// what exists), again after errors.
func (c *Controller) watchResource(ctx context.Context, gr schema.GroupResource) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	pods := gr == schema.GroupResource{Resource: "pods"}
	registry.Follow(ctx, time.Second, func(ctx context.Context) (watch.Interface, error) {
		st := c.storeOf(gr)
		if st == nil {
			stop() // no longer served: Follow returns
			return nil, errors.New("not served")
		}
		list, err := st.List(ctx, "", &metainternalversion.ListOptions{Limit: 1})
		if err != nil {
			return nil, err
		}
		m, err := meta.ListAccessor(list)
		if err != nil || m.GetResourceVersion() == "" {
			return nil, errors.New("no resourceVersion to watch from")
		}
		return st.Watch(ctx, "", &metainternalversion.ListOptions{ResourceVersion: m.GetResourceVersion()})
	}, func(t watch.EventType, obj runtime.Object) {
		switch {
		case t == watch.Deleted:
		case pods && t == watch.Modified:
			pod, ok := obj.(*corev1.Pod)
			if !ok || (pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed) {
				return
			}
		default:
			return
		}
		if m, err := meta.Accessor(obj); err == nil && m.GetNamespace() != "" {
			c.mark(m.GetNamespace()+"/", time.Now())
		}
	})
}
