package quota

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// Admission is the admission plugin ResourceQuota, validating half only
// (upstream's QuotaAdmission, last in the chain): a create, or an update
// that changes what an object uses, is checked against every quota of its
// namespace that selects it, and charged to their status.used by a
// compare-and-swap write of each quota, before the object is written; a
// request that would exceed a quota is 403 with upstream's message.
// Because each charge is checked again against the quota as stored when
// it is written, concurrent creates through any number of servers never
// exceed a quota. A dry-run request is checked, not charged.
type Admission struct {
	c       *Controller
	limited []LimitedResource
}

// NewAdmission returns the plugin; c is the controller of the same
// registry, told of the charges the plugin makes; cfg is its
// configuration (nil: nothing limited).
func NewAdmission(c *Controller, cfg *Configuration) *Admission {
	a := &Admission{c: c}
	if cfg != nil {
		a.limited = cfg.LimitedResources
	}
	return a
}

// Admit does nothing: ResourceQuota only validates.
func (*Admission) Admit(context.Context, *registry.Attributes) error { return nil }

// Validate checks and charges a request.
func (q *Admission) Validate(ctx context.Context, a *registry.Attributes) error {
	gr := schema.GroupResource{Group: a.Resource.Group, Resource: a.Resource.Resource}
	if a.Namespace == "" || ignored[gr] || gr == (schema.GroupResource{Resource: "namespaces"}) {
		return nil
	}
	e := evaluatorFor(gr, q.c.now)
	if a.Operation != registry.OpCreate && a.Operation != registry.OpUpdate {
		return nil
	}
	if !e.handles(a.Operation, a.Subresource, a.Object, a.OldObject) {
		return nil
	}
	quotas, err := q.c.quotas(ctx, a.Namespace, true)
	if err != nil || (len(quotas) == 0 && len(q.limited) == 0) {
		return err
	}
	out, changed, err := checkRequest(quotas, a, e, q.limited)
	if apierrors.IsForbidden(err) {
		// The cache may be behind: decide on the quotas as stored.
		if quotas, err = q.c.quotas(ctx, a.Namespace, false); err != nil {
			return err
		}
		out, changed, err = checkRequest(quotas, a, e, q.limited)
	}
	if err != nil || !changed || a.DryRun {
		return err
	}
	var charged []charge
	for i := range out {
		if equal(out[i].Status.Used, quotas[i].Status.Used) {
			continue
		}
		c, err := q.charge(ctx, a, e, quotas[i].Name)
		if err != nil {
			q.refund(ctx, charged)
			return err
		}
		if c != nil {
			charged = append(charged, *c)
		}
	}
	if len(charged) > 0 {
		q.c.charged(a.Namespace)
	}
	return nil
}

// charge is what a request added to one quota's usage.
type charge struct {
	namespace, name string
	delta           corev1.ResourceList
}

// errUnchanged stops a quota write that has nothing to add. It is a
// status error so that the registry hands it back as it is.
var errUnchanged error = &apierrors.StatusError{ErrStatus: metav1.Status{
	Status: metav1.StatusFailure, Reason: "Unchanged", Message: "unchanged"}}

// charge adds the request's usage to the quota name as stored, checked
// again against it at each attempt of the compare-and-swap; nil when the
// quota is gone or no longer charged.
func (q *Admission) charge(ctx context.Context, a *registry.Attributes, e evaluator, name string) (*charge, error) {
	st, ok := q.c.store()
	if !ok {
		return nil, nil
	}
	var delta corev1.ResourceList
	_, _, err := st.Update(serverContext(ctx), a.Namespace, name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(st.Resource().GroupResource(), name)
		}
		rq := existing.(*corev1.ResourceQuota)
		// limited resources were checked against every quota already
		out, changed, err := checkRequest([]corev1.ResourceQuota{*rq}, a, e, nil)
		if err != nil {
			return nil, err
		}
		if !changed {
			return nil, errUnchanged
		}
		delta = subtractNonNegative(out[0].Status.Used, rq.Status.Used)
		live := rq.DeepCopyObject()
		rq.Status.Used = out[0].Status.Used
		return q.c.track(st, live, rq, managerAdmission), nil
	}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
	if errors.Is(err, errUnchanged) || apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &charge{namespace: a.Namespace, name: name, delta: delta}, nil
}

// refund takes back the charges of a request another quota refused
// (upstream leaves them to the controller's next sync).
func (q *Admission) refund(ctx context.Context, charged []charge) {
	st, ok := q.c.store()
	if !ok {
		return
	}
	for _, c := range charged {
		_, _, _ = st.Update(serverContext(ctx), c.namespace, c.name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
			if existing == nil {
				return nil, apierrors.NewNotFound(st.Resource().GroupResource(), c.name)
			}
			rq := existing.(*corev1.ResourceQuota)
			live := rq.DeepCopyObject()
			rq.Status.Used = subtractNonNegative(rq.Status.Used, c.delta)
			return q.c.track(st, live, rq, managerAdmission), nil
		}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
	}
}

// serverContext is ctx without the request's user: the quota writes are
// the server's own, as upstream's loopback client's.
func serverContext(ctx context.Context) context.Context {
	return registry.WithUser(ctx, nil)
}
