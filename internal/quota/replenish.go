package quota

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage/cacheable"
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
	for ctx.Err() == nil {
		st := c.storeOf(gr)
		if st == nil {
			return
		}
		list, err := st.List(ctx, "", &metainternalversion.ListOptions{Limit: 1})
		var rv string
		if err == nil {
			if m, merr := meta.ListAccessor(list); merr == nil {
				rv = m.GetResourceVersion()
			}
		}
		if rv != "" {
			if w, err := st.Watch(ctx, "", &metainternalversion.ListOptions{ResourceVersion: rv}); err == nil {
				c.replenishFrom(ctx, w, gr)
				w.Stop()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (c *Controller) replenishFrom(ctx context.Context, w watch.Interface, gr schema.GroupResource) {
	pods := gr == schema.GroupResource{Resource: "pods"}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.ResultChan():
			if !ok || e.Type == watch.Error {
				return
			}
			obj := cacheable.Unwrap(e.Object)
			switch {
			case e.Type == watch.Deleted:
			case pods && e.Type == watch.Modified:
				pod, ok := obj.(*corev1.Pod)
				if !ok || (pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed) {
					continue
				}
			default:
				continue
			}
			if m, err := meta.Accessor(obj); err == nil && m.GetNamespace() != "" {
				c.mark(m.GetNamespace()+"/", time.Now())
			}
		}
	}
}
