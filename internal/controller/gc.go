package controller

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/regis-dev/regis/internal/registry"
)

// GarbageCollector deletes and orphans dependents, as kube-controller-
// manager's garbage collector does (regis has no controller manager):
//
//   - an object all of whose owners are gone is deleted (Background);
//   - the dependents of an owner being deleted with the
//     "foregroundDeletion" finalizer are deleted, and the finalizer is
//     removed once no dependent with blockOwnerDeletion is left;
//   - the dependents of an owner being deleted with the "orphan" finalizer
//     lose their ownerReferences to it, then the finalizer is removed.
//
// Owners are matched by uid: namespaced dependents in their namespace and
// cluster-scoped ones. Events are ignored, as upstream. A sweep runs after
// every deletion through the registry, and every Interval to catch what
// other servers on the same etcd deleted. Several servers may collect at
// once: every write carries a uid precondition.
type GarbageCollector struct {
	reg *registry.Registry
	log *slog.Logger
	// Interval is the time between two sweeps when nothing happens.
	Interval time.Duration
	// Retry is the time before the next sweep while work is pending.
	Retry time.Duration

	byKind map[schema.GroupKind]*registry.Store
}

// NewGarbageCollector returns a collector over reg; Run runs it.
func NewGarbageCollector(reg *registry.Registry, log *slog.Logger) *GarbageCollector {
	if log == nil {
		log = slog.Default()
	}
	gc := &GarbageCollector{reg: reg, log: log, Interval: 30 * time.Second, Retry: 250 * time.Millisecond,
		byKind: map[schema.GroupKind]*registry.Store{}}
	for _, s := range reg.Stores() {
		if gcIgnored(s) {
			continue
		}
		gc.byKind[s.Resource().GroupVersionKind().GroupKind()] = s
	}
	return gc
}

// gcIgnored are the resources the collector neither lists nor deletes:
// events (upstream's DefaultIgnoredResources) and namespaces, which the
// namespace controller empties.
func gcIgnored(s *registry.Store) bool {
	return s.Resource().Resource == "events" || isNamespaces(s)
}

// Run sweeps until ctx ends and returns nil then: after every deletion
// through the registry, every Interval, and every Retry while work is
// pending. A failed sweep is logged and tried again.
func (gc *GarbageCollector) Run(ctx context.Context) error {
	return loop(ctx, gc.reg.Deletions(), func(ctx context.Context) time.Duration {
		pending, err := gc.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			gc.log.Warn("garbage collection", "err", err)
			pending = true
		}
		if pending {
			return gc.Retry
		}
		return gc.Interval
	})
}

// gcNode is one object of a sweep.
type gcNode struct {
	s   *registry.Store
	obj runtime.Object
	m   metav1.Object
}

// Sweep makes one pass over every object. pending is true when work is
// left: it wrote (what it wrote may unblock more) or an owner waits for
// its dependents.
func (gc *GarbageCollector) Sweep(ctx context.Context) (pending bool, err error) {
	nodes := map[types.UID]*gcNode{}
	var all []*gcNode
	// The lists are not one snapshot: oldest is the revision of the oldest.
	// An owner changed after it (marked for deletion while the sweep was
	// listing) may have dependents the older lists do not show yet, so its
	// finalizer waits for the next sweep.
	oldest := uint64(math.MaxUint64)
	for _, s := range gc.reg.Stores() {
		if gcIgnored(s) {
			continue
		}
		items, rv, err := sweepList(ctx, s, "")
		if err != nil {
			return false, err
		}
		if rv != 0 {
			oldest = min(oldest, rv)
		}
		for _, it := range items {
			n := &gcNode{s: s, obj: it, m: metaOf(it)}
			nodes[n.m.GetUID()] = n
			all = append(all, n)
		}
	}
	dependents := map[types.UID][]*gcNode{}
	for _, n := range all {
		for _, ref := range n.m.GetOwnerReferences() {
			dependents[ref.UID] = append(dependents[ref.UID], n)
		}
	}
	var errs []error
	note := func(wrote bool, err error) {
		if wrote {
			pending = true
		}
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, err)
		}
	}
	for _, n := range all {
		if len(n.m.GetOwnerReferences()) > 0 && n.m.GetDeletionTimestamp() == nil {
			note(gc.collect(ctx, n, nodes, len(dependents[n.m.GetUID()]) > 0, oldest))
		}
	}
	for _, n := range all {
		if n.m.GetDeletionTimestamp() == nil {
			continue
		}
		if newerThan(n, oldest) {
			pending = true
			continue
		}
		fs := n.m.GetFinalizers()
		switch {
		case slices.Contains(fs, metav1.FinalizerOrphanDependents):
			note(gc.orphan(ctx, n, dependents[n.m.GetUID()]))
		case slices.Contains(fs, metav1.FinalizerDeleteDependents):
			blocked := slices.ContainsFunc(dependents[n.m.GetUID()], func(d *gcNode) bool {
				return blocks(d, n.m.GetUID())
			})
			if blocked {
				pending = true
				continue
			}
			note(true, gc.removeFinalizer(ctx, n, metav1.FinalizerDeleteDependents))
		}
	}
	return pending, errors.Join(errs...)
}

// blocks reports that d holds back the foreground deletion of owner.
func blocks(d *gcNode, owner types.UID) bool {
	for _, ref := range d.m.GetOwnerReferences() {
		if ref.UID == owner && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
			return true
		}
	}
	return false
}

// collect classifies the owners of a dependent as upstream's
// attemptToDeleteItem does: solid (present, not waiting), dangling (gone)
// and waiting (being deleted in the foreground). With a solid owner, the
// references to the others are removed; without one, the dependent is
// deleted, in the foreground when a waiting owner asked for it and it has
// dependents of its own.
//
// An owner marked for deletion after the oldest list of the sweep (oldest)
// is left for the next sweep: whether n has dependents of its own may not
// show in that list yet.
func (gc *GarbageCollector) collect(ctx context.Context, n *gcNode, nodes map[types.UID]*gcNode, hasDependents bool, oldest uint64) (bool, error) {
	var solid, drop, waiting int
	gone := map[types.UID]bool{}
	for _, ref := range n.m.GetOwnerReferences() {
		state, owner, err := gc.ownerState(ctx, n, ref, nodes)
		if err != nil {
			return false, err
		}
		if state == ownerWaiting && newerThan(owner, oldest) {
			return true, nil
		}
		switch state {
		case ownerSolid:
			solid++
		case ownerWaiting:
			waiting++
			drop++
			gone[ref.UID] = true
		case ownerDangling:
			drop++
			gone[ref.UID] = true
		}
	}
	switch {
	case solid > 0 && drop > 0:
		return true, gc.removeOwnerRefs(ctx, n, gone)
	case solid > 0:
		return false, nil
	}
	policy := metav1.DeletePropagationBackground
	if waiting > 0 && hasDependents {
		policy = metav1.DeletePropagationForeground
	}
	uid := n.m.GetUID()
	_, _, err := n.s.Delete(ctx, n.m.GetNamespace(), n.m.GetName(), registry.DeleteOptions{DeleteOptions: metav1.DeleteOptions{
		PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}}})
	return true, err
}

type ownerStatus int

const (
	ownerSolid ownerStatus = iota
	ownerDangling
	ownerWaiting
)

// ownerState finds the owner a reference names: in the sweep by uid, else
// by a consistent read of its name (the sweep's lists are not one
// snapshot, so absence is checked against etcd before anything is
// deleted). A reference regis cannot resolve counts as solid: nothing is
// deleted on a guess.
func (gc *GarbageCollector) ownerState(ctx context.Context, n *gcNode, ref metav1.OwnerReference, nodes map[types.UID]*gcNode) (ownerStatus, *gcNode, error) {
	owner, ok := nodes[ref.UID]
	if !ok {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil {
			return ownerSolid, nil, nil
		}
		s, ok := gc.byKind[gv.WithKind(ref.Kind).GroupKind()]
		if !ok {
			return ownerSolid, nil, nil
		}
		ns := ""
		if s.Resource().Namespaced {
			if ns = n.m.GetNamespace(); ns == "" {
				return ownerSolid, nil, nil
			}
		}
		obj, err := s.Get(ctx, ns, ref.Name, nil) // a consistent read
		switch {
		case apierrors.IsNotFound(err):
			return ownerDangling, nil, nil
		case err != nil:
			return ownerSolid, nil, err
		}
		if metaOf(obj).GetUID() != ref.UID {
			return ownerDangling, nil, nil
		}
		owner = &gcNode{s: s, obj: obj, m: metaOf(obj)}
	}
	if owner.m.GetDeletionTimestamp() != nil && slices.Contains(owner.m.GetFinalizers(), metav1.FinalizerDeleteDependents) {
		return ownerWaiting, owner, nil
	}
	return ownerSolid, nil, nil
}

// newerThan reports a node changed after revision rev (or of unknown revision).
func newerThan(n *gcNode, rev uint64) bool {
	v, err := strconv.ParseUint(n.m.GetResourceVersion(), 10, 64)
	return err != nil || v > rev
}

// orphan removes the references to an owner being deleted with the orphan
// finalizer from its dependents, then the finalizer.
func (gc *GarbageCollector) orphan(ctx context.Context, owner *gcNode, deps []*gcNode) (bool, error) {
	uid := owner.m.GetUID()
	for _, d := range deps {
		if err := gc.removeOwnerRefs(ctx, d, map[types.UID]bool{uid: true}); err != nil && !apierrors.IsNotFound(err) {
			return true, err
		}
	}
	return true, gc.removeFinalizer(ctx, owner, metav1.FinalizerOrphanDependents)
}

// removeOwnerRefs removes the references to the given owners from n.
func (gc *GarbageCollector) removeOwnerRefs(ctx context.Context, n *gcNode, owners map[types.UID]bool) error {
	return gc.update(ctx, n, func(m metav1.Object) {
		m.SetOwnerReferences(slices.DeleteFunc(m.GetOwnerReferences(), func(r metav1.OwnerReference) bool {
			return owners[r.UID]
		}))
	})
}

// removeFinalizer removes finalizer f from n; without finalizers left, a
// deleted object goes.
func (gc *GarbageCollector) removeFinalizer(ctx context.Context, n *gcNode, f string) error {
	return gc.update(ctx, n, func(m metav1.Object) {
		m.SetFinalizers(slices.DeleteFunc(m.GetFinalizers(), func(s string) bool { return s == f }))
	})
}

// update changes the metadata of n, if it is still the same object.
func (gc *GarbageCollector) update(ctx context.Context, n *gcNode, change func(metav1.Object)) error {
	uid := n.m.GetUID()
	_, _, err := n.s.Update(ctx, n.m.GetNamespace(), n.m.GetName(), func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil || metaOf(existing).GetUID() != uid {
			return nil, apierrors.NewNotFound(n.s.Resource().GroupResource(), n.m.GetName())
		}
		change(metaOf(existing))
		return existing, nil
	}, registry.UpdateOptions{})
	return err
}
