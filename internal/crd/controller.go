package crd

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Resource is the group, version and resource of CustomResourceDefinitions.
var Resource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Config configures a Controller.
type Config struct {
	// Registry serves the CRDs and gets the rows of their resources.
	Registry *registry.Registry
	// Storage makes the storage of a custom resource's storage version:
	// the server's, an etcd store and its watch cache. Required.
	Storage registry.StorageFactory
	// Release stops what Storage made for a resource (its watch cache)
	// once its CRD is gone; nil does nothing.
	Release func(schema.GroupResource)
	// TrackStatus, when set, records the controller's status writes in
	// managedFields (manager "kube-apiserver", as upstream's controllers).
	TrackStatus func(st *registry.Store, live, obj runtime.Object) runtime.Object
	// Logger receives the controller's logs (slog.Default when nil).
	Logger *slog.Logger
	// Webhooks configure the calls of conversion webhooks; a nil
	// ResolveService resolves services through Registry (ServiceResolver).
	Webhooks WebhookOptions
	// Retry is the wait before a sync that did not finish is tried again
	// (1s when zero).
	Retry time.Duration
}

// Controller does the work of upstream's apiextensions controllers: it
// accepts the names of CRDs (NamesAccepted), establishes them
// (Established), serves their versions through the registry, and, when a
// CRD is deleted, deletes its custom resources before letting it go.
type Controller struct {
	cfg  Config
	log  *slog.Logger
	crds *registry.Store

	mu     sync.Mutex
	dirty  map[string]bool
	kick   chan struct{}
	served map[string]*serving // by CRD name; only Run's goroutine touches it
}

// serving is what the controller serves for one CRD.
type serving struct {
	uid types.UID
	// generation and names are the CRD's the rows were made from: as
	// upstream, a change of spec or of accepted names makes new rows, a
	// status write does not.
	generation     int64
	names          apiextensionsv1.CustomResourceDefinitionNames
	storageGR      schema.GroupResource
	storageVersion string
	storage        storage.Interface
	gvrs           []schema.GroupVersionResource
	// terminating refuses new custom resources once the CRD is deleted.
	terminating *atomic.Bool
}

// New returns a Controller; Run starts it.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Webhooks.ResolveService == nil && cfg.Registry != nil {
		cfg.Webhooks.ResolveService = ServiceResolver(cfg.Registry)
	}
	if cfg.Retry == 0 {
		cfg.Retry = time.Second
	}
	crds, _ := cfg.Registry.Lookup(Resource)
	return &Controller{cfg: cfg, log: cfg.Logger, crds: crds, dirty: map[string]bool{},
		kick: make(chan struct{}, 1), served: map[string]*serving{}}
}

// Run serves the CRDs until ctx ends, and returns once its goroutines
// have stopped. What it served stays in the registry.
func (c *Controller) Run(ctx context.Context) error {
	if c.crds == nil {
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
				c.log.Warn("custom resource definition", "name", name, "err", err)
			}
			if !done {
				c.mu.Lock()
				c.dirty[name] = true // again after Retry, unless an event comes first
				c.mu.Unlock()
				retry = true
			}
		}
		if retry {
			timer.Reset(c.cfg.Retry)
		}
	}
}

// mark queues a CRD for a sync and wakes the loop.
func (c *Controller) mark(name string) {
	c.mu.Lock()
	c.dirty[name] = true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// watch queues every CRD that changes: all of them first, then each
// change, listing again after an error until ctx ends.
func (c *Controller) watch(ctx context.Context) {
	registry.Follow(ctx, c.cfg.Retry, func(ctx context.Context) (watch.Interface, error) {
		rv, err := c.markAll(ctx)
		var w watch.Interface
		if err == nil {
			w, err = c.crds.Watch(ctx, "", &metainternalversion.ListOptions{ResourceVersion: rv})
		}
		if err != nil && ctx.Err() == nil {
			c.log.Warn("watch of custom resource definitions", "err", err)
		}
		return w, err
	}, func(_ watch.EventType, obj runtime.Object) {
		if m, err := meta.Accessor(obj); err == nil { // not at the end of a watch
			c.mark(m.GetName())
		}
	})
}

// markAll queues every CRD and the names served (a CRD deleted while
// nothing watched) and returns the list's resourceVersion.
func (c *Controller) markAll(ctx context.Context) (string, error) {
	list, err := c.crds.List(ctx, "", &metainternalversion.ListOptions{})
	if err != nil {
		return "", err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return "", err
	}
	for _, it := range items {
		if m, err := meta.Accessor(cacheable.Unwrap(it)); err == nil {
			c.mark(m.GetName())
		}
	}
	c.mark("") // a sync of "" finds the served CRDs that are gone
	l, err := meta.ListAccessor(list)
	if err != nil {
		return "", err
	}
	return l.GetResourceVersion(), nil
}

// sync brings what is served for the CRD name in line with the CRD.
// done is false when it must be tried again.
func (c *Controller) sync(ctx context.Context, name string) (done bool, err error) {
	if name == "" {
		return c.syncGone(ctx)
	}
	obj, err := c.crds.Get(ctx, "", name, nil)
	if apierrors.IsNotFound(err) {
		c.unserve(name)
		return true, nil
	}
	if err != nil {
		return false, err
	}
	crd := obj.(*apiextensionsv1.CustomResourceDefinition)
	if s := c.served[name]; s != nil && s.uid != crd.UID {
		c.unserve(name) // deleted and created again
	}
	if crd.DeletionTimestamp != nil {
		return c.finalize(ctx, crd)
	}
	if changed, err := c.updateNames(ctx, crd); err != nil || changed {
		return err == nil, err // the update brings the CRD back here
	}
	if changed, err := c.updateConditions(ctx, crd); err != nil || changed {
		return err == nil, err
	}
	return true, c.serve(crd)
}

// syncGone stops serving the CRDs that no longer exist.
func (c *Controller) syncGone(ctx context.Context) (bool, error) {
	for name := range c.served {
		if _, err := c.crds.Get(ctx, "", name, nil); apierrors.IsNotFound(err) {
			c.unserve(name)
		}
	}
	return true, nil
}

// serve adds the rows of an established CRD's served versions, or
// replaces them when the CRD changed.
func (c *Controller) serve(crd *apiextensionsv1.CustomResourceDefinition) error {
	if !established(crd) {
		return nil
	}
	if s := c.served[crd.Name]; s != nil && s.generation == crd.Generation && apiequality.Semantic.DeepEqual(s.names, crd.Status.AcceptedNames) {
		return nil
	}
	terminating := new(atomic.Bool)
	if prev := c.served[crd.Name]; prev != nil {
		// A new schema or names: a new storage and watch cache, whose
		// objects are decoded (pruned, defaulted) by the new schema, as
		// upstream's handler makes new serving info; watchers of the old
		// one are closed and watch again.
		terminating = prev.terminating
		c.unserve(crd.Name)
	}
	rows, storageRow, err := Rows(crd, c.cfg.Webhooks)
	if err != nil {
		return err
	}
	for _, r := range rows {
		r.AdmitCreate = forbidCreate(r.GroupResource(), terminating)
		r.Terminating = terminating.Load()
	}
	st, err := c.cfg.Storage(storageRow)
	if err != nil {
		return err
	}
	s := &serving{uid: crd.UID, generation: crd.Generation, names: crd.Status.AcceptedNames, storageGR: storageRow.GroupResource(),
		storage: st, terminating: terminating}
	c.served[crd.Name] = s
	for _, r := range rows {
		if _, err := c.cfg.Registry.Add(r, st); err != nil {
			return err
		}
		s.gvrs = append(s.gvrs, r.GroupVersionResource())
	}
	c.log.Info("serving custom resource", "crd", crd.Name, "versions", len(rows))
	return nil
}

// unserve removes the rows of a CRD and releases its storage.
func (c *Controller) unserve(name string) {
	s := c.served[name]
	if s == nil {
		return
	}
	for _, gvr := range s.gvrs {
		c.cfg.Registry.Remove(gvr)
	}
	if c.cfg.Release != nil {
		c.cfg.Release(s.storageGR)
	}
	delete(c.served, name)
	c.log.Info("stopped serving custom resource", "crd", name)
}
