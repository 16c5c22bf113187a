package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	apiregistrationv1 "github.com/regis-dev/regis/internal/apis/apiregistration/v1"
	"github.com/regis-dev/regis/internal/registry"
)

// LocalAvailability keeps local APIServices (those without a service)
// available, as kube-aggregator's LocalAvailability controller: whenever
// one is added or changed, and every resync period, its Available
// condition is set back to True, reason Local, through /status. Remote
// APIServices are left alone (regis proxies to no service).
type LocalAvailability struct {
	reg *registry.Registry
	log *slog.Logger
	// resync is upstream's informer resync period; retry the wait after
	// a failed sync.
	resync, retry time.Duration

	mu    sync.Mutex // guards dirty
	dirty map[string]bool
	kick  chan struct{} // capacity 1: "dirty changed"
}

// NewLocalAvailability returns the controller over reg; Run runs it.
func NewLocalAvailability(reg *registry.Registry, log *slog.Logger) *LocalAvailability {
	if log == nil {
		log = slog.Default()
	}
	return &LocalAvailability{reg: reg, log: log, resync: 30 * time.Second, retry: time.Second,
		dirty: map[string]bool{}, kick: make(chan struct{}, 1)}
}

// Run syncs the APIServices that change, and all of them every resync
// period, until ctx ends; it returns nil then, once its goroutines have
// stopped.
func (c *LocalAvailability) Run(ctx context.Context) error {
	st, ok := c.reg.Lookup(apiServicesGVR)
	if !ok {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { c.watch(ctx, st) })
	return loop(ctx, c.kick, func(ctx context.Context) time.Duration { return c.step(ctx, st) })
}

// step syncs the changed APIServices, or all of them when none changed
// (the first run and the resyncs).
func (c *LocalAvailability) step(ctx context.Context, st *registry.Store) time.Duration {
	c.mu.Lock()
	names := c.dirty
	c.dirty = map[string]bool{}
	c.mu.Unlock()
	if len(names) == 0 {
		list, err := st.List(ctx, "", nil)
		if err != nil {
			c.log.Warn("local APIService availability: list", "err", err)
			return c.retry
		}
		for _, s := range list.(*apiregistrationv1.APIServiceList).Items {
			names[s.Name] = true
		}
	}
	wait := c.resync
	for name := range names {
		if err := syncLocalAvailable(ctx, st, name); err != nil && ctx.Err() == nil {
			if !apierrors.IsConflict(err) {
				c.log.Warn("local APIService availability", "apiservice", name, "err", err)
			}
			c.mark(name)
			wait = c.retry
		}
	}
	return wait
}

// syncLocalAvailable sets the Available condition of a local APIService,
// writing its status only when that changes it.
func syncLocalAvailable(ctx context.Context, st *registry.Store, name string) error {
	obj, err := st.Get(ctx, "", name, nil)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	cur := obj.(*apiregistrationv1.APIService)
	if cur.Spec.Service != nil {
		return nil
	}
	want := cur.DeepCopy()
	apiregistrationv1.SetAPIServiceCondition(want, apiregistrationv1.NewLocalAvailableAPIServiceCondition())
	if equality.Semantic.DeepEqual(cur.Status, want.Status) {
		return nil
	}
	_, _, err = st.Update(ctx, "", name, func(context.Context, runtime.Object) (runtime.Object, error) {
		return want.DeepCopy(), nil // at cur's resourceVersion: a conflict if it changed since
	}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func (c *LocalAvailability) mark(name string) {
	c.mu.Lock()
	c.dirty[name] = true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// watch marks every local APIService added or changed, re-watching after
// errors until ctx ends.
func (c *LocalAvailability) watch(ctx context.Context, st *registry.Store) {
	registry.Follow(ctx, c.retry, st.Watching("", &metainternalversion.ListOptions{}), func(t watch.EventType, obj runtime.Object) {
		if s, ok := obj.(*apiregistrationv1.APIService); ok && (t == watch.Added || t == watch.Modified) && s.Spec.Service == nil {
			c.mark(s.Name)
		}
	})
}
