package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
)

// NamespaceController finishes the deletion of namespaces, as upstream's
// namespace controller does: it deletes every object in a Terminating
// namespace, waits until the last one is gone (finalizers may hold some
// back), then removes the "kubernetes" finalizer, which removes the
// namespace.
type NamespaceController struct {
	reg   *registry.Registry
	log   *slog.Logger
	retry time.Duration

	mu    sync.Mutex // guards dirty
	dirty map[string]bool
	kick  chan struct{} // capacity 1: "dirty changed"
}

// NewNamespaceController returns a controller over reg; Run runs it.
func NewNamespaceController(reg *registry.Registry, log *slog.Logger) *NamespaceController {
	if log == nil {
		log = slog.Default()
	}
	return &NamespaceController{reg: reg, log: log, retry: time.Second, dirty: map[string]bool{}, kick: make(chan struct{}, 1)}
}

// Run watches namespaces and empties the terminating ones until ctx ends.
// It returns nil after ctx ends, once its goroutines have stopped.
func (c *NamespaceController) Run(ctx context.Context) error {
	if c.reg.Namespaces() == nil {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.watch(ctx) })
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		case <-timer.C:
		}
		c.mu.Lock()
		names := c.dirty
		c.dirty = map[string]bool{}
		c.mu.Unlock()
		retry := false
		for name := range names {
			done, err := c.sync(ctx, name)
			if err != nil && ctx.Err() == nil {
				c.log.Warn("namespace deletion", "namespace", name, "err", err)
			}
			if !done {
				c.mark(name)
				retry = true
			}
		}
		if retry {
			timer.Reset(c.retry)
		}
	}
}

// mark queues a namespace for a sync.
func (c *NamespaceController) mark(name string) {
	c.mu.Lock()
	c.dirty[name] = true
	c.mu.Unlock()
}

// watch queues every namespace that is being deleted, re-watching after
// errors until ctx ends.
func (c *NamespaceController) watch(ctx context.Context) {
	registry.Follow(ctx, c.retry, c.reg.Namespaces().Watching("", &metainternalversion.ListOptions{}), func(t watch.EventType, obj runtime.Object) {
		m, err := meta.Accessor(obj)
		if err != nil || m.GetDeletionTimestamp() == nil || t == watch.Deleted {
			return
		}
		c.mark(m.GetName())
		poke(c.kick)
	})
}

// sync deletes the contents of a terminating namespace and, once it is
// empty, the namespace. done is false when it must be tried again.
func (c *NamespaceController) sync(ctx context.Context, name string) (done bool, err error) {
	nss := c.reg.Namespaces()
	obj, err := nss.Get(ctx, "", name, nil)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if metaOf(obj).GetDeletionTimestamp() == nil {
		return true, nil
	}
	empty := true
	for _, s := range c.reg.Stores() {
		if !s.Resource().Namespaced {
			continue
		}
		if _, err := s.DeleteCollection(ctx, name, nil, registry.DeleteOptions{}); err != nil {
			return false, err
		}
		left, err := s.List(ctx, name, &metainternalversion.ListOptions{Limit: 1})
		if err != nil {
			return false, err
		}
		if meta.LenList(left) > 0 {
			empty = false
		}
	}
	if !empty {
		return false, nil
	}
	_, _, err = nss.Update(ctx, "", name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(nss.Resource().GroupResource(), name)
		}
		ns := existing.(*corev1.Namespace)
		var keep []corev1.FinalizerName
		for _, f := range ns.Spec.Finalizers {
			if f != corev1.FinalizerKubernetes {
				keep = append(keep, f)
			}
		}
		ns.Spec.Finalizers = keep
		return ns, nil
	}, registry.UpdateOptions{Subresource: registry.FinalizeSubresource})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	return err == nil, err
}

// metaOf returns the metadata of a registry object, which always has it.
func metaOf(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(fmt.Sprintf("controller: %T has no metadata: %v", obj, err))
	}
	return m
}

// isNamespaces tells the store of namespaces.
func isNamespaces(s *registry.Store) bool {
	return s.Resource().GroupResource() == schema.GroupResource{Resource: "namespaces"}
}
