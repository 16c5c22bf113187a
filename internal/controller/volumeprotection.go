package controller

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// The finalizers kube-apiserver's StorageObjectInUseProtection admission
// puts on every claim and volume (registry/builtin adds them too).
const (
	pvcProtectionFinalizer = "kubernetes.io/pvc-protection"
	pvProtectionFinalizer  = "kubernetes.io/pv-protection"
)

// VolumeProtection is kube-controller-manager's pvc-protection and
// pv-protection controllers (regis has no controller manager, and without
// them a deleted claim or volume would stay Terminating for good): the
// protection finalizer of a deleted claim is removed once no scheduled,
// running pod uses the claim, that of a deleted volume once it is not
// Bound. It wakes on every change of claims, volumes and pods, and
// rescans every Resync.
type VolumeProtection struct {
	reg *registry.Registry
	log *slog.Logger
	// Resync is the longest sleep.
	Resync time.Duration
}

// NewVolumeProtection returns the controller over reg; Run runs it.
func NewVolumeProtection(reg *registry.Registry, log *slog.Logger) *VolumeProtection {
	return &VolumeProtection{reg: reg, log: log, Resync: 30 * time.Second}
}

var (
	pvcsGVR = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	pvsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}
	podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

// Run removes finalizers until ctx ends.
func (c *VolumeProtection) Run(ctx context.Context) error {
	pvcs, ok1 := c.reg.Lookup(pvcsGVR)
	pvs, ok2 := c.reg.Lookup(pvsGVR)
	pods, ok3 := c.reg.Lookup(podsGVR)
	if !ok1 || !ok2 || !ok3 {
		<-ctx.Done()
		return nil
	}
	wake := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { // owned by Run: it waits for them below
		defer close(done)
		watchAll(ctx, wake, pvcs, pvs, pods)
	}()
	defer func() { cancel(); <-done }()
	var last time.Time
	return loop(ctx, wake, func(ctx context.Context) time.Duration {
		// Pods change all the time: at most 5 passes a second.
		if d := time.Until(last.Add(200 * time.Millisecond)); d > 0 {
			select {
			case <-ctx.Done():
				return c.Resync
			case <-time.After(d):
			}
		}
		last = time.Now()
		if err := c.sync(ctx, pvcs, pvs, pods); err != nil && ctx.Err() == nil {
			c.log.Warn("volume protection", "err", err)
			return time.Second
		}
		return c.Resync
	})
}

// watchAll sends on wake (without blocking) at every event of the stores
// and at the end of each watch, re-watching a second later, until ctx
// ends.
func watchAll(ctx context.Context, wake chan<- struct{}, stores ...*registry.Store) {
	var wg sync.WaitGroup
	for _, st := range stores {
		wg.Go(func() {
			registry.Follow(ctx, time.Second, st.Watching("", &metainternalversion.ListOptions{}), func(watch.EventType, runtime.Object) {
				poke(wake)
			})
		})
	}
	wg.Wait()
}

// sync removes the finalizers that no longer protect anything.
func (c *VolumeProtection) sync(ctx context.Context, pvcs, pvs, pods *registry.Store) error {
	claims, err := itemsOf[*corev1.PersistentVolumeClaim](ctx, pvcs, "")
	if err != nil {
		return err
	}
	for _, pvc := range claims {
		if pvc.DeletionTimestamp == nil || !slices.Contains(pvc.Finalizers, pvcProtectionFinalizer) {
			continue
		}
		used, err := claimUsed(ctx, pods, pvc)
		if err != nil {
			return err
		}
		if !used {
			if err := dropFinalizer(ctx, pvcs, pvc.Namespace, pvc.Name, pvcProtectionFinalizer); err != nil {
				return err
			}
		}
	}
	volumes, err := itemsOf[*corev1.PersistentVolume](ctx, pvs, "")
	if err != nil {
		return err
	}
	for _, pv := range volumes {
		if pv.DeletionTimestamp != nil && slices.Contains(pv.Finalizers, pvProtectionFinalizer) && pv.Status.Phase != corev1.VolumeBound {
			if err := dropFinalizer(ctx, pvs, "", pv.Name, pvProtectionFinalizer); err != nil {
				return err
			}
		}
	}
	return nil
}

// claimUsed tells whether a pod scheduled to a node and not finished
// mounts the claim, as upstream's podUsesPVC (a pod not yet scheduled
// does not hold it: the kubelet will not start it on a deleted claim).
func claimUsed(ctx context.Context, pods *registry.Store, pvc *corev1.PersistentVolumeClaim) (bool, error) {
	list, err := itemsOf[*corev1.Pod](ctx, pods, pvc.Namespace)
	if err != nil {
		return false, err
	}
	for _, pod := range list {
		if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Name ||
				v.Ephemeral != nil && pod.Name+"-"+v.Name == pvc.Name {
				return true, nil
			}
		}
	}
	return false, nil
}

// itemsOf lists a store's objects of a namespace ("" for all) from its
// watch cache.
func itemsOf[T runtime.Object](ctx context.Context, st *registry.Store, namespace string) ([]T, error) {
	list, err := st.List(ctx, namespace, &metainternalversion.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		if t, ok := cacheable.Unwrap(it).(T); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// dropFinalizer removes one finalizer of an object (the store deletes an
// object being deleted whose last finalizer goes).
func dropFinalizer(ctx context.Context, st *registry.Store, namespace, name, finalizer string) error {
	_, _, err := st.Update(ctx, namespace, name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(st.Resource().GroupResource(), name)
		}
		obj := existing.DeepCopyObject()
		m := metaOf(obj)
		m.SetFinalizers(slices.DeleteFunc(slices.Clone(m.GetFinalizers()), func(f string) bool { return f == finalizer }))
		return obj, nil
	}, registry.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone, or changed: the next pass sees it
	}
	return err
}
