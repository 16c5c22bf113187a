package quota

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

var quotasGVR = corev1.SchemeGroupVersion.WithResource("resourcequotas")

// Config configures a Controller.
type Config struct {
	Registry *registry.Registry
	Log      *slog.Logger
	// Resync is the period of the full sync of every quota (upstream's
	// --resource-quota-sync-period, 5m when zero).
	Resync time.Duration
	// Settle is how long a quota must stay unchanged (no charge by any
	// server) before its usage is lowered: an object charged just
	// before the count may not be written yet; 500ms when zero.
	Settle time.Duration
	// TrackStatus, when set, records a status write in the quota's
	// managedFields as manager's (upstream: kube-apiserver for the
	// admission plugin's charges, kube-controller-manager for the
	// controller's).
	TrackStatus func(st *registry.Store, live, obj runtime.Object, manager string) runtime.Object
}

// Upstream's field managers of quota status writes.
const (
	managerAdmission  = "kube-apiserver"
	managerController = "kube-controller-manager"
)

// track records manager's status write of obj over live when the
// controller is configured to.
func (c *Controller) track(st *registry.Store, live, obj runtime.Object, manager string) runtime.Object {
	if c.cfg.TrackStatus == nil {
		return obj
	}
	return c.cfg.TrackStatus(st, live, obj, manager)
}

// Controller keeps the status of every quota current, as upstream's
// resourcequota controller: status.hard is spec.hard, status.used is
// recomputed from the objects of the namespace when a quota is created
// or its spec changes, every Resync, and as soon as an object it
// measures is deleted (replenishment.go).
type Controller struct {
	cfg Config
	now func() time.Time

	mu       sync.Mutex
	due      map[string]time.Time // namespace/name, or namespace/ for all its quotas → when
	lowering map[string]lowering  // namespace/name → when a decrease was first computed, on which version
	kick     chan struct{}
	watches  *watches // set by Run before its loop
}

// NewController returns a controller; Run runs it.
func NewController(cfg Config) *Controller {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 5 * time.Minute
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 500 * time.Millisecond
	}
	return &Controller{cfg: cfg, now: cfg.Registry.Now, due: map[string]time.Time{},
		lowering: map[string]lowering{}, kick: make(chan struct{}, 1)}
}

func (c *Controller) store() (*registry.Store, bool) { return c.cfg.Registry.Lookup(quotasGVR) }

// quotas lists the quotas of a namespace, from the watch cache when
// cached is set.
func (c *Controller) quotas(ctx context.Context, namespace string, cached bool) ([]corev1.ResourceQuota, error) {
	st, ok := c.store()
	if !ok {
		return nil, nil
	}
	opts := &metainternalversion.ListOptions{}
	if cached {
		opts.ResourceVersion = "0"
	}
	list, err := st.List(ctx, namespace, opts)
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]corev1.ResourceQuota, 0, len(items))
	for _, it := range items {
		if rq, ok := cacheable.Unwrap(it).(*corev1.ResourceQuota); ok {
			out = append(out, *rq.DeepCopy())
		}
	}
	return out, nil
}

// mark queues key (namespace/name, or namespace/ for all) at time at.
func (c *Controller) mark(key string, at time.Time) {
	c.mu.Lock()
	if t, ok := c.due[key]; !ok || at.Before(t) {
		c.due[key] = at
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// charged notes a charge in a namespace.
//
// A charge whose object is then not written (AlreadyExists, a failed
// write) stays in the usage until the next count: the namespace's quotas
// are counted again 20 settle times after a charge (10s), at most once
// in that time however many charges come (upstream waits for the full
// resync).
func (c *Controller) charged(namespace string) {
	c.mark(namespace+"/", time.Now().Add(20*c.cfg.Settle))
}

// Run syncs quotas until ctx ends, then returns nil once its goroutines
// have stopped.
func (c *Controller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	c.watches = &watches{ctx: ctx, wg: &wg, running: map[schema.GroupResource]bool{}}
	wg.Go(func() { c.watch(ctx) })
	resync := time.NewTicker(c.cfg.Resync)
	defer resync.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	c.markAll(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		case <-timer.C:
		case <-resync.C:
			c.markAll(ctx)
		}
		next := c.runDue(ctx)
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
	}
}

// markAll queues every quota (the full resync).
func (c *Controller) markAll(ctx context.Context) {
	qs, err := c.quotas(ctx, "", true)
	if err != nil {
		c.cfg.Log.Warn("resource quota resync", "err", err)
		return
	}
	now := time.Now()
	for i := range qs {
		c.mark(qs[i].Namespace+"/"+qs[i].Name, now)
	}
}

// runDue syncs what is due and returns when the next is.
func (c *Controller) runDue(ctx context.Context) time.Time {
	now := time.Now()
	c.mu.Lock()
	var keys []string
	var next time.Time
	for k, t := range c.due {
		if !t.After(now) {
			keys = append(keys, k)
			delete(c.due, k)
		} else if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	c.mu.Unlock()
	for _, k := range keys {
		ns, name, _ := strings.Cut(k, "/")
		names := []string{name}
		if name == "" {
			qs, err := c.quotas(ctx, ns, false)
			if err != nil {
				c.retry(k)
				continue
			}
			names = names[:0]
			for i := range qs {
				names = append(names, qs[i].Name)
			}
		}
		for _, n := range names {
			retryAt, err := c.sync(ctx, ns, n)
			if err != nil && ctx.Err() == nil {
				c.cfg.Log.Warn("resource quota sync", "namespace", ns, "name", n, "err", err)
				retryAt = time.Now().Add(time.Second)
			}
			if !retryAt.IsZero() {
				c.mark(ns+"/"+n, retryAt)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.due {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

func (c *Controller) retry(key string) { c.mark(key, time.Now().Add(time.Second)) }

// watch queues each new quota and each whose status is not yet its
// spec's, re-watching after errors until ctx ends.
func (c *Controller) watch(ctx context.Context) {
	registry.Follow(ctx, time.Second, func(ctx context.Context) (watch.Interface, error) {
		st, ok := c.store()
		if !ok {
			return nil, errors.New("resourcequotas not served")
		}
		return st.Watch(ctx, "", &metainternalversion.ListOptions{})
	}, func(t watch.EventType, obj runtime.Object) {
		rq, ok := obj.(*corev1.ResourceQuota)
		if !ok || t == watch.Deleted {
			return
		}
		// upstream's handlers: every quota added, a quota updated
		// when its spec's hard limits are not its status's
		if t == watch.Added || !equal(rq.Spec.Hard, rq.Status.Hard) {
			c.mark(rq.Namespace+"/"+rq.Name, time.Time{})
		}
	})
}

// sync is upstream's syncResourceQuota: status.hard from the spec,
// status.used recomputed, written when either changed, as a
// compare-and-swap on the quota read. A decrease waits (retryAt) until
// the quota has been left unchanged for a settle time (settled).
func (c *Controller) sync(ctx context.Context, namespace, name string) (retryAt time.Time, err error) {
	st, ok := c.store()
	if !ok {
		return time.Time{}, nil
	}
	obj, err := st.Get(ctx, namespace, name, nil)
	if apierrors.IsNotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	rq := obj.(*corev1.ResourceQuota)
	c.ensureWatches(names(rq.Spec.Hard))
	limitsChanged := !apiequality.Semantic.DeepEqual(rq.Spec.Hard, rq.Status.Hard) || rq.Status.Hard == nil
	dirty := limitsChanged || rq.Status.Used == nil
	used := corev1.ResourceList{}
	for k, v := range rq.Status.Used {
		used[k] = v.DeepCopy()
	}
	hard := add(corev1.ResourceList{}, rq.Spec.Hard)
	fresh, calcErr := c.usage(ctx, rq, hard)
	for k, v := range fresh {
		used[k] = v
	}
	used = mask(used, names(hard))
	if !equal(used, rq.Status.Used) {
		dirty = true
		if ok, _ := lessOrEqual(rq.Status.Used, used); !ok && !c.settled(namespace+"/"+name, rq.ResourceVersion) {
			return time.Now().Add(c.cfg.Settle), calcErr
		}
	}
	if !dirty {
		return time.Time{}, calcErr
	}
	rv := rq.ResourceVersion
	_, _, err = st.Update(ctx, namespace, name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(st.Resource().GroupResource(), name)
		}
		cur := existing.(*corev1.ResourceQuota)
		if cur.ResourceVersion != rv {
			return nil, apierrors.NewConflict(st.Resource().GroupResource(), name, errConflict)
		}
		live := cur.DeepCopyObject()
		cur.Status = corev1.ResourceQuotaStatus{Hard: hard, Used: used}
		return c.track(st, live, cur, managerController), nil
	}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
	switch {
	case apierrors.IsNotFound(err):
		return time.Time{}, calcErr
	case apierrors.IsConflict(err):
		return time.Now(), calcErr // changed meanwhile: again, on the new version
	}
	if err != nil {
		return time.Time{}, err
	}
	if limitsChanged {
		// Objects created while the servers' caches did not have these
		// limits yet were not charged: count again once they are
		// written (upstream leaves them to the next full resync).
		return time.Now().Add(4 * c.cfg.Settle), calcErr
	}
	return time.Time{}, calcErr
}

// settled reports a quota seen at the same resourceVersion by the
// previous sync, which also computed a decrease: nothing was charged
// for a settle time, so every object charged before is written and was
// counted. Otherwise it remembers rv: a charge by any server between the
// count and the write could be lost (a compare-and-swap does not catch
// it when the charge came first).
func (c *Controller) settled(key, rv string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if l, ok := c.lowering[key]; ok && l.rv == rv {
		if now.Sub(l.at) < c.cfg.Settle {
			return false
		}
		delete(c.lowering, key)
		return true
	}
	for k, l := range c.lowering { // quotas since deleted or raised
		if now.Sub(l.at) > time.Minute {
			delete(c.lowering, k)
		}
	}
	c.lowering[key] = lowering{rv: rv, at: now}
	return false
}

type lowering struct {
	rv string
	at time.Time
}

var errConflict = conflictError("the object has been modified; please apply your changes to the latest version and try again")

type conflictError string

func (e conflictError) Error() string { return string(e) }

// usage computes what the objects of the quota's namespace use of the
// names hard limits (upstream's CalculateUsage).
func (c *Controller) usage(ctx context.Context, rq *corev1.ResourceQuota, hard corev1.ResourceList) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	var firstErr error
	for gr, e := range c.evaluatorsFor(names(hard)) {
		matched := e.matchingResources(names(hard))
		st := c.storeOf(gr)
		if st == nil || len(matched) == 0 {
			continue
		}
		used := corev1.ResourceList{}
		for _, n := range matched {
			used[n] = resource.Quantity{Format: resource.DecimalSI}
		}
		list, err := st.List(ctx, rq.Namespace, &metainternalversion.ListOptions{})
		if err == nil {
			var items []runtime.Object
			if items, err = meta.ExtractList(list); err == nil {
				used, err = sumUsage(e, rq, items, used)
			}
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		out = add(out, mask(used, matched))
	}
	return out, firstErr
}

// sumUsage adds the usage of the items the quota's scopes select.
func sumUsage(e evaluator, rq *corev1.ResourceQuota, items []runtime.Object, used corev1.ResourceList) (corev1.ResourceList, error) {
	sels := scopeSelectors(rq)
	for _, it := range items {
		obj := cacheable.Unwrap(it)
		selected := true
		for _, s := range sels {
			ok, err := e.matchesScope(s, obj)
			if err != nil {
				return used, nil // upstream's CalculateUsageStats stops there
			}
			selected = selected && ok
		}
		if !selected {
			continue
		}
		u, err := e.usage(obj)
		if err != nil {
			return used, err
		}
		used = add(used, u)
	}
	return used, nil
}

// evaluatorsFor returns the evaluators that measure some of names, by
// resource.
func (c *Controller) evaluatorsFor(ns []corev1.ResourceName) map[schema.GroupResource]evaluator {
	out := map[schema.GroupResource]evaluator{}
	for _, gr := range []schema.GroupResource{{Resource: "pods"}, {Resource: "services"}, {Resource: "persistentvolumeclaims"}} {
		if e := evaluatorFor(gr, c.now); len(e.matchingResources(ns)) > 0 {
			out[gr] = e
		}
	}
	for gr, alias := range legacyCounts {
		for _, n := range ns {
			if n == alias {
				out[gr] = evaluatorFor(gr, c.now)
			}
		}
	}
	for _, n := range ns {
		rest, ok := strings.CutPrefix(string(n), "count/")
		if !ok {
			continue
		}
		res, group, _ := strings.Cut(rest, ".")
		gr := schema.GroupResource{Group: group, Resource: res}
		if _, done := out[gr]; !done && !ignored[gr] {
			out[gr] = evaluatorFor(gr, c.now)
		}
	}
	return out
}

// storeOf returns a store of the resource, nil when none is served.
func (c *Controller) storeOf(gr schema.GroupResource) *registry.Store {
	for _, s := range c.cfg.Registry.Stores() {
		if s.Resource().GroupResource() == gr && s.Resource().Namespaced {
			return s
		}
	}
	return nil
}
