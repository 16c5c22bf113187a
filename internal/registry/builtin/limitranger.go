package builtin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// The bounds of the LimitRanger's live lookups (upstream's: an LRU of
// 10000 namespaces, 30 s each).
const (
	limitRangeLiveEntries = 10000
	limitRangeLiveTTL     = 30 * time.Second
)

var limitRangesGVR = corev1.SchemeGroupVersion.WithResource("limitranges")

// LimitRangerAdmission is upstream's LimitRanger admission plugin, a step
// of the admission chain (before ServiceAccount, as upstream orders it).
// Its mutating half gives the containers and init containers of a new pod
// the default requests and limits of the namespace's LimitRanges (type
// Container), noted in the kubernetes.io/limit-ranger annotation; its
// validating half refuses, with 403 and upstream's messages, a new pod
// whose containers or whole (types Container and Pod) break a min, max or
// maxLimitRequestRatio, and a claim (create or update) whose
// requests.storage breaks a PersistentVolumeClaim min or max. The
// LimitRanges are read from reg's watch cache; a namespace with none there
// is read again from etcd, at most every 30 s, as upstream's live lookup.
func LimitRangerAdmission(reg *registry.Registry) registry.Admission {
	return &limitRanger{reg: reg, live: map[string]liveLimitRanges{}}
}

type limitRanger struct {
	reg  *registry.Registry
	mu   sync.Mutex
	live map[string]liveLimitRanges // by namespace
}

type liveLimitRanges struct {
	expiry time.Time
	items  []*corev1.LimitRange
}

// Admit sets the defaults of pods.
func (l *limitRanger) Admit(ctx context.Context, a *registry.Attributes) error {
	return l.run(ctx, a, func(lr *corev1.LimitRange) error {
		if pod, ok := a.Object.(*corev1.Pod); ok && a.Resource.Resource == "pods" {
			mergePodResourceRequirements(pod, defaultContainerResourceRequirements(lr))
		}
		return nil
	})
}

// Validate checks pods and claims against the limits.
func (l *limitRanger) Validate(ctx context.Context, a *registry.Attributes) error {
	return l.run(ctx, a, func(lr *corev1.LimitRange) error {
		switch obj := a.Object.(type) {
		case *corev1.Pod:
			if a.Resource.Resource == "pods" {
				return podValidateLimit(lr, obj)
			}
		case *corev1.PersistentVolumeClaim:
			if a.Resource.Resource == "persistentvolumeclaims" {
				return claimValidateLimit(lr, obj)
			}
		}
		return nil
	})
}

var (
	podKind   = schema.GroupKind{Kind: "Pod"}
	claimKind = schema.GroupKind{Kind: "PersistentVolumeClaim"}
)

// supports is upstream's SupportsAttributes: pods on create and on a
// resize, claims on create and update, never another subresource.
func limitRangerSupports(a *registry.Attributes) bool {
	if a.Operation != registry.OpCreate && a.Operation != registry.OpUpdate {
		return false
	}
	gk := a.Kind.GroupKind()
	if a.Subresource == "resize" && gk == podKind && a.Operation == registry.OpUpdate {
		return true
	}
	if a.Subresource != "" {
		return false
	}
	if gk == podKind && a.Operation == registry.OpUpdate {
		return false // containers are immutable
	}
	return gk == podKind || gk == claimKind
}

// run is upstream's runLimitFunc.
func (l *limitRanger) run(ctx context.Context, a *registry.Attributes, fn func(*corev1.LimitRange) error) error {
	if !limitRangerSupports(a) {
		return nil
	}
	if a.OldObject != nil { // objects being deleted are left alone
		m, err := meta.Accessor(a.OldObject)
		if err != nil {
			return AdmissionForbidden(a, err)
		}
		if m.GetDeletionTimestamp() != nil {
			return nil
		}
	}
	items, err := l.limitRanges(ctx, a)
	if err != nil {
		return err
	}
	for _, lr := range items {
		if err := fn(lr); err != nil {
			return AdmissionForbidden(a, err)
		}
	}
	return nil
}

// limitRanges is upstream's GetLimitRanges: the watch cache's, else a
// live list remembered for 30 s.
func (l *limitRanger) limitRanges(ctx context.Context, a *registry.Attributes) ([]*corev1.LimitRange, error) {
	st, ok := l.reg.Lookup(limitRangesGVR)
	if !ok {
		return nil, nil
	}
	items, err := listLimitRanges(ctx, st, a.Namespace, "0")
	if err != nil {
		return nil, AdmissionForbidden(a, fmt.Errorf("unable to %s %v at this time because there was an error enforcing limit ranges",
			a.Operation, a.Resource))
	}
	if len(items) > 0 {
		return items, nil
	}
	now := time.Now()
	l.mu.Lock()
	e, ok := l.live[a.Namespace]
	l.mu.Unlock()
	if ok && !e.expiry.Before(now) {
		return e.items, nil
	}
	items, err = listLimitRanges(ctx, st, a.Namespace, "")
	if err != nil {
		return nil, AdmissionForbidden(a, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.live) >= limitRangeLiveEntries {
		for ns, e := range l.live {
			if e.expiry.Before(now) || len(l.live) >= limitRangeLiveEntries {
				delete(l.live, ns)
			}
		}
	}
	l.live[a.Namespace] = liveLimitRanges{expiry: now.Add(limitRangeLiveTTL), items: items}
	return items, nil
}

func listLimitRanges(ctx context.Context, st *registry.Store, namespace, rv string) ([]*corev1.LimitRange, error) {
	objs, err := sharedObjects(ctx, st, namespace, rv)
	if err != nil {
		return nil, err
	}
	items := make([]*corev1.LimitRange, 0, len(objs))
	for _, o := range objs {
		if lr, ok := o.(*corev1.LimitRange); ok {
			items = append(items, lr)
		}
	}
	return items, nil
}

// AdmissionForbidden is upstream's admission.NewForbidden: 403 on the
// request's resource and name (the object's name, or its generateName
// before the name is generated, else "Unknown"); a 403 is returned as it
// is.
func AdmissionForbidden(a *registry.Attributes, err error) error {
	var st *apierrors.StatusError
	if errors.As(err, &st) && apierrors.IsForbidden(st) {
		return st
	}
	name := a.Name
	if name == "" {
		name = "Unknown"
		if a.Object != nil {
			m, merr := meta.Accessor(a.Object)
			switch {
			case merr != nil:
				name = "Unknown/errorGettingName"
			case m.GetName() != "":
				name = m.GetName()
			case m.GetGenerateName() != "":
				name = m.GetGenerateName()
			}
		}
	}
	return apierrors.NewForbidden(a.Resource.GroupResource(), name, err)
}
