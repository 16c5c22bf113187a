package registry

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/storage"
)

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
			now := s.now().Truncate(time.Second)
			at := now.Add(time.Duration(period) * time.Second)
			p := period
			if ts := m.GetDeletionTimestamp(); ts != nil && cur != nil {
				// A shorter period moves the deadline earlier, from when
				// the deletion began, but never into the past: then the
				// shortest graceful period, 1s, from now (upstream's
				// rest.BeforeDelete).
				at = ts.Add(time.Duration(period-*cur) * time.Second)
				if at.Before(now) {
					at = now
					if p != 0 {
						p = 1
					}
				}
			}
			deadline := metav1.NewTime(at)
			m.SetDeletionTimestamp(&deadline)
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
