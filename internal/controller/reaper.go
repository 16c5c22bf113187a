package controller

import (
	"context"
	"log/slog"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/registry"
)

// GracefulReaper deletes the objects whose grace period has passed (pods
// deleted gracefully), as the kubelet would once their containers stop:
// regis has no kubelet. It sleeps until the earliest deadline it knows,
// wakes when this server marks an object, and rescans every Resync for the
// marks of other servers.
type GracefulReaper struct {
	reg *registry.Registry
	log *slog.Logger
	// Resync is the longest sleep.
	Resync time.Duration
}

// NewGracefulReaper returns a reaper over reg; Run runs it.
func NewGracefulReaper(reg *registry.Registry, log *slog.Logger) *GracefulReaper {
	if log == nil {
		log = slog.Default()
	}
	return &GracefulReaper{reg: reg, log: log, Resync: 10 * time.Second}
}

// Run reaps until ctx ends and returns nil then. A failed pass is logged
// and tried again.
func (g *GracefulReaper) Run(ctx context.Context) error {
	return loop(ctx, g.reg.GracefulDeletions(), func(ctx context.Context) time.Duration {
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
		return wait
	})
}

// reap deletes what is due and returns the earliest deadline to come.
func (g *GracefulReaper) reap(ctx context.Context) (next time.Time, err error) {
	for _, s := range g.reg.Stores() {
		if s.Resource().GracePeriod == nil {
			continue
		}
		// A consistent list: it sees the mark that kicked the reaper.
		items, _, err := sweepList(ctx, s, "")
		if err != nil {
			return next, err
		}
		now := g.reg.Now()
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
			_, _, err := s.Delete(ctx, m.GetNamespace(), m.GetName(), registry.DeleteOptions{DeleteOptions: metav1.DeleteOptions{
				GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return next, err
			}
		}
	}
	return next, nil
}
