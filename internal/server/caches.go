package server

import (
	"context"
	"log/slog"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// Caches are the watch caches a CachedStorage factory made. Run runs them.
type Caches struct {
	log *slog.Logger

	mu      sync.Mutex // guards cachers, stops, ctx
	cachers map[schema.GroupResource]*cacher.Cacher
	// stops stop the caches started after Run (custom resources).
	stops map[schema.GroupResource]context.CancelFunc
	// ctx is Run's while it runs: a cache made then starts at once.
	ctx context.Context
	wg  sync.WaitGroup

	// early says which caches Run fills at once; the others wait for
	// StartRest.
	early    func(schema.GroupResource) bool
	rest     chan struct{} // closed by StartRest
	restOnce sync.Once
}

// CacheConfig configures CachedStorage.
type CacheConfig struct {
	// Cached says which resources get a cache; nil means all.
	Cached func(schema.GroupResource) bool
	// MaxBytes (--watch-cache-max-bytes) caps the memory of each cache and
	// of all of them together; past it, a cache still serves watches and
	// sends lists to etcd. The zero value means no limit.
	MaxBytes cacher.MaxBytes
	// Metrics are the caches' collectors, one set per server, registered
	// by the server; nil gives each cache a private, unregistered set.
	Metrics *cacher.Metrics
	// Logger receives the caches' logs (slog.Default when nil).
	Logger *slog.Logger
	// Early says which caches fill as soon as Caches.Run runs: those the
	// server's start reads (RBAC, admission's configuration). The others
	// fill once Caches.StartRest is called, so that on a large data dir
	// their first lists (every object read and decoded) do not take the
	// CPU the start needs; until then their reads go to etcd and their
	// watches wait. Nil means all at once.
	Early func(schema.GroupResource) bool
	// KeepHistoryDecoded keeps the caches' past events decoded: for a
	// --storage-media-type other than protobuf, whose empty lists a
	// protobuf round trip would turn to null.
	KeepHistoryDecoded bool
}

// CachedStorage wraps each storage base makes in a watch cache, except for
// the resources cfg.Cached refuses (events, by kube-apiserver's default).
// The caches serve watches and most lists; they fill once Caches.Run runs.
func CachedStorage(base registry.StorageFactory, cfg CacheConfig) (registry.StorageFactory, *Caches) {
	log, limit, cached := cfg.Logger, cfg.MaxBytes, cfg.Cached
	if log == nil {
		log = slog.Default()
	}
	var budget *cacher.Budget
	if limit.Total > 0 {
		budget = cacher.NewBudget(limit.Total)
	}
	cs := &Caches{log: log, cachers: map[schema.GroupResource]*cacher.Cacher{}, stops: map[schema.GroupResource]context.CancelFunc{},
		early: cfg.Early, rest: make(chan struct{})}
	return func(r *registry.Resource) (storage.Interface, error) {
		st, err := base(r)
		if err != nil || r.Convert != nil || r.Internal || (cached != nil && !cached(r.GroupResource())) {
			return st, err
		}
		c, err := cacher.New(cacher.Config{
			Store:          st,
			ResourcePrefix: registry.RootKey(r.EtcdPrefix()),
			GroupResource:  r.GroupResource(),
			NewFunc:        r.New,
			NewListFunc:    r.NewList,
			ClusterScoped:  !r.Namespaced,
			GetAttrs:       attrsOf(r),
			IndexedFields:  indexedFields(r),
			TriggerField:   triggerField(r),
			EstimateSizes:  true,
			MaxBytes:       limit.For(r.GroupResource()),
			Budget:         budget,
			Logger:         log,
			Metrics:        cfg.Metrics,

			KeepHistoryDecoded: cfg.KeepHistoryDecoded,
		})
		if err != nil {
			return nil, err
		}
		cs.add(r.GroupResource(), c)
		return c, nil
	}, cs
}

// attrsOf returns the labels and selectable fields of a resource's objects.
func attrsOf(r *registry.Resource) storage.AttrFunc {
	return func(obj runtime.Object) (labels.Set, fields.Set, error) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, nil, err
		}
		return labels.Set(m.GetLabels()), r.SelectableFields(obj, m.GetName(), m.GetNamespace()), nil
	}
}

// indexedFields are the fields the cache indexes: pods by node, as upstream.
func indexedFields(r *registry.Resource) []string {
	if r.GroupResource() == (schema.GroupResource{Resource: "pods"}) {
		return []string{"spec.nodeName"}
	}
	return nil
}

func triggerField(r *registry.Resource) string {
	if r.GroupResource() == (schema.GroupResource{Resource: "pods"}) {
		return "spec.nodeName"
	}
	return ""
}

// Resources returns the cached resources.
func (cs *Caches) Resources() []schema.GroupResource {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make([]schema.GroupResource, 0, len(cs.cachers))
	for gr := range cs.cachers {
		out = append(out, gr)
	}
	return out
}

// Ready reports whether the cache of gr is in sync with etcd.
func (cs *Caches) Ready(gr schema.GroupResource) error {
	cs.mu.Lock()
	c := cs.cachers[gr]
	cs.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.ReadinessCheck()
}

// add records a new cache and, once Run runs, starts it.
func (cs *Caches) add(gr schema.GroupResource, c *cacher.Cacher) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.cachers[gr] = c
	if cs.ctx == nil {
		return
	}
	ctx, cancel := context.WithCancel(cs.ctx)
	cs.stops[gr] = cancel
	cs.wg.Go(func() { cs.run(ctx, c) })
}

// Release stops the cache of a resource made after Run started (a custom
// resource whose definition is gone) and forgets it.
func (cs *Caches) Release(gr schema.GroupResource) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if stop := cs.stops[gr]; stop != nil {
		stop()
		delete(cs.stops, gr)
	}
	delete(cs.cachers, gr)
}

// Run runs every cache, and those made while it runs, until ctx ends; it
// returns when all have stopped. The caches Early refuses start with
// StartRest.
func (cs *Caches) Run(ctx context.Context) error {
	cs.mu.Lock()
	cs.ctx = ctx
	for gr, c := range cs.cachers {
		if cs.early == nil || cs.early(gr) {
			cs.wg.Go(func() { cs.run(ctx, c) })
			continue
		}
		cs.wg.Go(func() {
			select {
			case <-cs.rest:
				cs.run(ctx, c)
			case <-ctx.Done():
			}
		})
	}
	cs.mu.Unlock()
	<-ctx.Done()
	cs.wg.Wait()
	return nil
}

// StartRest starts the caches Run left for later.
func (cs *Caches) StartRest() {
	cs.restOnce.Do(func() { close(cs.rest) })
}

func (cs *Caches) run(ctx context.Context, c *cacher.Cacher) {
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		cs.log.Error("watch cache stopped", "err", err)
	}
}
