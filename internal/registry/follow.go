package registry

import (
	"context"
	"time"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Follow keeps a watch open until ctx ends, as the controllers do: open
// starts one (listing first when it needs to: the resourceVersion to
// watch from, or the objects a lost watch may have missed), and handle
// receives each of its events, the object unwrapped from the watch
// cache's cacheable wrapper. A watch ends when its channel closes or at
// an Error event (which handle does not get); Follow then stops it and
// opens another retry later, as after an open that fails. A retry of 0
// opens again at once: open then waits after its own failures.
//
// handle also gets the end of each watch (not of ctx), as one last event
// of type watch.Error with a nil object: a handler that acts on a lost
// watch acts then, the others ignore that type. handle runs on Follow's
// goroutine, one event at a time, and Follow returns once ctx ends.
func Follow(ctx context.Context, retry time.Duration, open func(context.Context) (watch.Interface, error), handle func(watch.EventType, runtime.Object)) {
	for ctx.Err() == nil {
		if w, err := open(ctx); err == nil {
			if drain(ctx, w, handle) && ctx.Err() == nil {
				handle(watch.Error, nil)
			}
			w.Stop()
		}
		if retry <= 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// drain passes w's events to handle until w ends (ended) or ctx does.
func drain(ctx context.Context, w watch.Interface, handle func(watch.EventType, runtime.Object)) (ended bool) {
	for {
		select {
		case <-ctx.Done():
			return false
		case e, ok := <-w.ResultChan():
			if !ok || e.Type == watch.Error {
				return true
			}
			handle(e.Type, cacheable.Unwrap(e.Object))
		}
	}
}

// Watching returns an open for Follow: s.Watch of the objects of a
// namespace ("" for all) that match opts, the same opts each time.
func (s *Store) Watching(namespace string, opts *metainternalversion.ListOptions) func(context.Context) (watch.Interface, error) {
	return func(ctx context.Context) (watch.Interface, error) { return s.Watch(ctx, namespace, opts) }
}
