package registry

import (
	"context"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// gcPolicy returns the propagation policy of a delete: the request's, the
// deprecated orphanDependents, or the resource's default (Background
// unless the row says otherwise).
func gcPolicy(o *metav1.DeleteOptions, def metav1.DeletionPropagation) metav1.DeletionPropagation {
	switch {
	case o.PropagationPolicy != nil:
		return *o.PropagationPolicy
	case o.OrphanDependents != nil && *o.OrphanDependents:
		return metav1.DeletePropagationOrphan
	case o.OrphanDependents != nil:
		return metav1.DeletePropagationBackground
	case def != "":
		return def
	}
	return metav1.DeletePropagationBackground
}

// gcFinalizerFor returns the finalizer a policy adds, "" for Background.
func gcFinalizerFor(p metav1.DeletionPropagation) string {
	switch p {
	case metav1.DeletePropagationOrphan:
		return metav1.FinalizerOrphanDependents
	case metav1.DeletePropagationForeground:
		return metav1.FinalizerDeleteDependents
	}
	return ""
}

// withGCFinalizer returns finalizers with f added and the other garbage
// collection finalizer removed (the latest policy wins, as upstream).
func withGCFinalizer(finalizers []string, f string) []string {
	other := metav1.FinalizerOrphanDependents
	if f == other {
		other = metav1.FinalizerDeleteDependents
	}
	out := slices.DeleteFunc(slices.Clone(finalizers), func(s string) bool { return s == other })
	if !slices.Contains(out, f) {
		out = append(out, f)
	}
	return out
}

// afterDelete runs once obj is gone from storage: the resource's
// AfterDelete, then a wake-up of the garbage collector.
func (s *Store) afterDelete(ctx context.Context, obj runtime.Object) {
	if s.r.AfterDelete != nil {
		s.r.AfterDelete(context.WithoutCancel(ctx), s, obj)
	}
	s.kickGC()
}

// kickGC wakes the garbage collector, if any, without blocking.
func (s *Store) kickGC() {
	if s.gcKick == nil {
		return
	}
	select {
	case s.gcKick <- struct{}{}:
	default:
	}
}
