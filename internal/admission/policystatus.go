package admission

import (
	"context"
	"log/slog"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	applyv1 "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// PolicyStatusManager is the field manager of the status the controller
// writes (upstream's validatingadmissionpolicy-status controller).
const PolicyStatusManager = "validatingadmissionpolicy-status"

// PolicyStatus is upstream's validatingadmissionpolicy-status controller
// (kube-controller-manager's; regis has none): a policy whose generation
// it has not checked gets status.observedGeneration and
// status.typeChecking, applied through client as PolicyStatusManager.
type PolicyStatus struct {
	client  kubernetes.Interface
	reg     *registry.Registry
	checker *TypeChecker
	log     *slog.Logger
}

// NewPolicyStatus returns the controller; it reads schemas through
// client's OpenAPI v3 discovery and kinds from reg.
func NewPolicyStatus(client kubernetes.Interface, reg *registry.Registry, log *slog.Logger) *PolicyStatus {
	return &PolicyStatus{client: client, reg: reg, log: log, checker: &TypeChecker{
		Resolver: discoveryResolver{client.Discovery()},
		KindFor: func(gvr schema.GroupVersionResource) (schema.GroupVersionKind, bool) {
			st, ok := reg.Lookup(gvr)
			if !ok {
				return schema.GroupVersionKind{}, false
			}
			return st.Resource().GroupVersionKind(), true
		},
	}}
}

// Run checks policies until ctx ends: a watch of the policies (from the
// watch cache, which sends the existing ones first) marks those whose
// generation is new; a failed write is tried again a second later.
func (c *PolicyStatus) Run(ctx context.Context) error {
	st, ok := c.reg.Lookup(admissionregistrationv1.SchemeGroupVersion.WithResource("validatingadmissionpolicies"))
	if !ok {
		<-ctx.Done()
		return nil
	}
	pending := map[string]*admissionregistrationv1.ValidatingAdmissionPolicy{}
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for ctx.Err() == nil {
		w, err := st.Watch(ctx, "", &metainternalversion.ListOptions{})
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for open := true; open; {
			select {
			case <-ctx.Done():
				open = false
			case e, ok := <-w.ResultChan():
				if !ok || e.Type == watch.Error {
					open = false
					break
				}
				p, isPolicy := cacheable.Unwrap(e.Object).(*admissionregistrationv1.ValidatingAdmissionPolicy)
				switch {
				case !isPolicy:
				case e.Type == watch.Deleted:
					delete(pending, p.Name)
				case p.Generation > p.Status.ObservedGeneration:
					pending[p.Name] = p
				}
			case <-retry.C:
			}
			for name, p := range pending {
				err := c.sync(ctx, p)
				if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
					delete(pending, name) // a conflict: a newer generation's event follows
					continue
				}
				if ctx.Err() == nil {
					c.log.Warn("validating admission policy status", "policy", name, "error", err)
					retry.Reset(time.Second)
				}
			}
		}
		w.Stop()
	}
	return nil
}

// sync writes the type checking of one policy, if its generation is new.
func (c *PolicyStatus) sync(ctx context.Context, p *admissionregistrationv1.ValidatingAdmissionPolicy) error {
	warnings := make([]*applyv1.ExpressionWarningApplyConfiguration, 0)
	for _, w := range c.checker.Check(p) {
		warnings = append(warnings, applyv1.ExpressionWarning().WithFieldRef(w.FieldRef).WithWarning(w.Warning))
	}
	cfg := applyv1.ValidatingAdmissionPolicy(p.Name).WithStatus(applyv1.ValidatingAdmissionPolicyStatus().
		WithObservedGeneration(p.Generation).
		WithTypeChecking(applyv1.TypeChecking().WithExpressionWarnings(warnings...)))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := c.client.AdmissionregistrationV1().ValidatingAdmissionPolicies().ApplyStatus(ctx, cfg,
		metav1.ApplyOptions{FieldManager: PolicyStatusManager, Force: true})
	return err
}
