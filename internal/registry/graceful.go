package registry

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/storage"
)

// DefaultTerminationGracePeriodSeconds is the grace period of a pod that
// names none (upstream's v1.DefaultTerminationGracePeriodSeconds).
const DefaultTerminationGracePeriodSeconds = 30

// podGracePeriod is upstream's podStrategy.CheckGracefulDelete: the
// request's gracePeriodSeconds, else the pod's
// terminationGracePeriodSeconds, else 30; 0 for a pod no node runs (not
// scheduled, or finished).
func podGracePeriod(obj runtime.Object, o *metav1.DeleteOptions) int64 {
	pod := obj.(*corev1.Pod)
	period := int64(DefaultTerminationGracePeriodSeconds)
	switch {
	case o.GracePeriodSeconds != nil:
		period = *o.GracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		period = 0
	}
	return period
}

// deleteGracefully marks an object for deletion in period seconds, as
// upstream's rest.BeforeDelete: deletionTimestamp is now + period and
// deletionGracePeriodSeconds period; a later delete may only shorten it.
// done is false when the object must be deleted at once instead (period
// 0). The GracefulReaper deletes it when the period has passed.
func (s *Store) deleteGracefully(ctx context.Context, key, name string, pre *storage.Preconditions, opts DeleteOptions, existing runtime.Object, gcFinalizer string) (obj runtime.Object, done bool, err error) {
	if s.r.GracePeriod == nil {
		return nil, false, nil
	}
	period := s.r.GracePeriod(existing, &opts.DeleteOptions)
	if period <= 0 {
		return nil, false, nil
	}
	m := metaOf(existing)
	if cur := m.GetDeletionGracePeriodSeconds(); m.GetDeletionTimestamp() != nil && (cur == nil || *cur <= period) && gcFinalizer == "" {
		// Already on its way out, no later than this delete asks.
		return existing, true, nil
	}
	mark := func(obj runtime.Object) {
		m := metaOf(obj)
		if cur := m.GetDeletionGracePeriodSeconds(); m.GetDeletionTimestamp() == nil || cur == nil || period < *cur {
			if m.GetDeletionTimestamp() == nil && m.GetGeneration() > 0 {
				m.SetGeneration(m.GetGeneration() + 1)
			}
			at := metav1.NewTime(s.now().Add(time.Duration(period) * time.Second).Truncate(time.Second))
			m.SetDeletionTimestamp(&at)
			p := period
			m.SetDeletionGracePeriodSeconds(&p)
		}
		if gcFinalizer != "" {
			m.SetFinalizers(withGCFinalizer(m.GetFinalizers(), gcFinalizer))
		}
	}
	if opts.DryRun {
		obj := existing.DeepCopyObject()
		mark(obj)
		return obj, true, nil
	}
	out := s.newStored()
	err = s.storage.GuaranteedUpdate(ctx, key, out, false, pre, func(input runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		obj, err := s.fromStored(input)
		if err != nil {
			return nil, nil, err
		}
		obj = obj.DeepCopyObject()
		mark(obj)
		stored, err := s.toStored(obj)
		return stored, s.ttl(), err
	}, nil)
	if err != nil {
		return nil, true, interpretError(err, opDelete, s.gr(), name)
	}
	if obj, err = s.fromStored(out); err != nil {
		return nil, true, apierrors.NewInternalError(err)
	}
	s.setTypeMeta(obj)
	s.kickReaper()
	s.kickGC()
	return obj, true, nil
}

// kickReaper wakes the graceful reaper without blocking.
func (s *Store) kickReaper() {
	if s.reg == nil {
		return
	}
	select {
	case s.reg.reapKick <- struct{}{}:
	default:
	}
}

// GracefulReaper deletes the objects whose grace period has passed (pods
// deleted gracefully), as the kubelet would once their containers stop:
// regis has no kubelet. It sleeps until the earliest deadline it knows,
// wakes when this server marks an object, and rescans every Resync for the
// marks of other servers.
type GracefulReaper struct {
	reg *Registry
	log *slog.Logger
	// Resync is the longest sleep.
	Resync time.Duration
}

// NewGracefulReaper returns a reaper over reg; Run runs it.
func NewGracefulReaper(reg *Registry, log *slog.Logger) *GracefulReaper {
	if log == nil {
		log = slog.Default()
	}
	return &GracefulReaper{reg: reg, log: log, Resync: 10 * time.Second}
}

// Run reaps until ctx ends and returns nil then.
func (g *GracefulReaper) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.reg.reapKick:
		case <-timer.C:
		}
		next, err := g.reap(ctx)
		if err != nil && ctx.Err() == nil {
			g.log.Warn("graceful deletion", "err", err)
		}
		wait := g.Resync
		if !next.IsZero() {
			// Deadlines are whole seconds: wake just after.
			if d := time.Until(next) + 10*time.Millisecond; d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		timer.Stop()
		timer.Reset(wait)
	}
}

// reap deletes what is due and returns the earliest deadline to come.
func (g *GracefulReaper) reap(ctx context.Context) (next time.Time, err error) {
	for _, s := range g.reg.Stores() {
		if s.r.GracePeriod == nil {
			continue
		}
		// A consistent list: it sees the mark that kicked the reaper.
		list, err := s.List(ctx, "", &metainternalversion.ListOptions{})
		if err != nil {
			return next, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return next, err
		}
		now := s.now()
		for _, it := range items {
			m := metaOf(it)
			dt, p := m.GetDeletionTimestamp(), m.GetDeletionGracePeriodSeconds()
			if dt == nil || p == nil || *p == 0 {
				continue
			}
			if dt.After(now) {
				if next.IsZero() || dt.Before(&metav1.Time{Time: next}) {
					next = dt.Time
				}
				continue
			}
			zero, uid := int64(0), m.GetUID()
			_, _, err := s.Delete(ctx, m.GetNamespace(), m.GetName(), DeleteOptions{DeleteOptions: metav1.DeleteOptions{
				GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return next, err
			}
		}
	}
	return next, nil
}
