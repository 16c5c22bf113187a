package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// ObjectStore reads and writes one kind of object. Get answers
// upstream's NotFound for a missing object; Create AlreadyExists for an
// existing one; Update Conflict when the object's resourceVersion is not
// the stored one.
type ObjectStore interface {
	Get(ctx context.Context, namespace, name string) (runtime.Object, error)
	Create(ctx context.Context, namespace string, obj runtime.Object) error
	Update(ctx context.Context, namespace string, obj runtime.Object) error
	// Delete deletes the object if its uid is uid.
	Delete(ctx context.Context, namespace, name string, uid types.UID) error
}

// Stores are where the policy is reconciled.
type Stores struct {
	ClusterRoles, ClusterRoleBindings, Roles, RoleBindings ObjectStore
	// Namespaces, when set, creates kube-system and kube-public before
	// their roles when they are missing (upstream's tryEnsureNamespace).
	Namespaces ObjectStore
}

// Ensure reconciles the stored RBAC objects with p, as kube-apiserver's
// rbac/bootstrap-roles post-start hook does: it first primes the
// aggregated and split objects of older versions, then creates or
// reconciles every cluster role, cluster role binding, role and role
// binding. It goes on after an error, trying as many as it can, and
// returns the errors met; the caller retries until it returns nil.
func Ensure(ctx context.Context, p *Policy, s Stores, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s = withSnapshots(ctx, p, s)
	var errs []error
	if err := primeAggregated(ctx, s.ClusterRoles); err != nil {
		errs = append(errs, fmt.Errorf("unable to prime aggregated clusterroles: %w", err))
	}
	if err := primeSplitBindings(ctx, p, s.ClusterRoleBindings); err != nil {
		errs = append(errs, fmt.Errorf("unable to prime split ClusterRoleBindings: %w", err))
	}
	errs = append(errs, each(ctx, len(p.ClusterRoles), func(i int) error {
		return retry(func() error { return ensureClusterRole(ctx, s.ClusterRoles, p.ClusterRoles[i], log) })
	})...)
	errs = append(errs, each(ctx, len(p.ClusterRoleBindings), func(i int) error {
		return retry(func() error {
			return ensureClusterRoleBinding(ctx, s.ClusterRoleBindings, p.ClusterRoleBindings[i], log)
		})
	})...)
	errs = append(errs, each(ctx, len(p.Roles), func(i int) error {
		want := p.Roles[i]
		return retry(func() error {
			if err := ensureNamespace(ctx, s.Namespaces, want.Namespace); err != nil {
				return err
			}
			return ensureRole(ctx, s.Roles, want, log)
		})
	})...)
	errs = append(errs, each(ctx, len(p.RoleBindings), func(i int) error {
		want := p.RoleBindings[i]
		return retry(func() error {
			if err := ensureNamespace(ctx, s.Namespaces, want.Namespace); err != nil {
				return err
			}
			return ensureRoleBinding(ctx, s.RoleBindings, want, log)
		})
	})...)
	return errors.Join(errs...)
}

// ensureWorkers bounds the objects reconciled at once: each is a
// round trip to the store, and a first start writes about 150.
const ensureWorkers = 8

// each runs f(0..n-1), ensureWorkers at a time, and returns their errors
// in order (nil ones included, which errors.Join drops).
func each(ctx context.Context, n int, f func(i int) error) []error {
	errs := make([]error, n)
	sem := make(chan struct{}, ensureWorkers)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	return errs
}

// errRetry asks for another attempt (the object changed under us).
var errRetry = errors.New("changed concurrently")

// retry runs fn up to three times while it answers errRetry or Conflict.
func retry(fn func() error) error {
	var err error
	for range 3 {
		err = fn()
		if err == nil || !(errors.Is(err, errRetry) || apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) {
			return err
		}
	}
	return fmt.Errorf("exceeded maximum attempts: %w", err)
}

func get[T runtime.Object](ctx context.Context, st ObjectStore, namespace, name string) (T, bool, error) {
	var zero T
	obj, err := st.Get(ctx, namespace, name)
	if apierrors.IsNotFound(err) {
		return zero, false, nil
	}
	if err != nil {
		return zero, false, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, false, fmt.Errorf("%s/%s: unexpected %T", namespace, name, obj)
	}
	return t, true, nil
}

func report(log *slog.Logger, kind string, m metav1.ObjectMeta, op Operation, protected bool, missing any) {
	switch {
	case protected && op != OpNone:
		log.Warn("skipped reconcile-protected "+kind, "namespace", m.Namespace, "name", m.Name, "missing", missing)
	case op != OpNone:
		log.Debug(string(op)+"d "+kind, "namespace", m.Namespace, "name", m.Name, "missing", missing)
	}
}

func ensureClusterRole(ctx context.Context, st ObjectStore, want *rbacv1.ClusterRole, log *slog.Logger) error {
	cur, found, err := get[*rbacv1.ClusterRole](ctx, st, "", want.Name)
	if err != nil {
		return err
	}
	var r RoleResult
	if found {
		r = ReconcileClusterRole(cur, want)
	} else {
		r = ReconcileClusterRole(nil, want)
	}
	report(log, "clusterrole", want.ObjectMeta, r.Operation, r.Protected, r.MissingRules)
	if r.Protected || r.Operation == OpNone {
		return nil
	}
	obj := want.DeepCopy()
	if found {
		obj = cur.DeepCopy()
	}
	obj.Labels, obj.Annotations, obj.Rules, obj.AggregationRule = r.Labels, r.Annotations, r.Rules, r.AggregationRule
	return save(ctx, st, "", obj, found)
}

func ensureRole(ctx context.Context, st ObjectStore, want *rbacv1.Role, log *slog.Logger) error {
	cur, found, err := get[*rbacv1.Role](ctx, st, want.Namespace, want.Name)
	if err != nil {
		return err
	}
	var r RoleResult
	if found {
		r = ReconcileRole(cur, want)
	} else {
		r = ReconcileRole(nil, want)
	}
	report(log, "role", want.ObjectMeta, r.Operation, r.Protected, r.MissingRules)
	if r.Protected || r.Operation == OpNone {
		return nil
	}
	obj := want.DeepCopy()
	if found {
		obj = cur.DeepCopy()
	}
	obj.Labels, obj.Annotations, obj.Rules = r.Labels, r.Annotations, r.Rules
	return save(ctx, st, want.Namespace, obj, found)
}

func ensureClusterRoleBinding(ctx context.Context, st ObjectStore, want *rbacv1.ClusterRoleBinding, log *slog.Logger) error {
	cur, found, err := get[*rbacv1.ClusterRoleBinding](ctx, st, "", want.Name)
	if err != nil {
		return err
	}
	var r BindingResult
	if found {
		r = ReconcileClusterRoleBinding(cur, want)
	} else {
		r = ReconcileClusterRoleBinding(nil, want)
	}
	report(log, "clusterrolebinding", want.ObjectMeta, r.Operation, r.Protected, r.MissingSubjects)
	if r.Protected || r.Operation == OpNone {
		return nil
	}
	if r.Operation == OpRecreate {
		if err := st.Delete(ctx, "", cur.Name, cur.UID); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return save(ctx, st, "", want.DeepCopy(), false)
	}
	obj := want.DeepCopy()
	if found {
		obj = cur.DeepCopy()
	}
	obj.Labels, obj.Annotations, obj.Subjects = r.Labels, r.Annotations, r.Subjects
	return save(ctx, st, "", obj, found)
}

func ensureRoleBinding(ctx context.Context, st ObjectStore, want *rbacv1.RoleBinding, log *slog.Logger) error {
	cur, found, err := get[*rbacv1.RoleBinding](ctx, st, want.Namespace, want.Name)
	if err != nil {
		return err
	}
	var r BindingResult
	if found {
		r = ReconcileRoleBinding(cur, want)
	} else {
		r = ReconcileRoleBinding(nil, want)
	}
	report(log, "rolebinding", want.ObjectMeta, r.Operation, r.Protected, r.MissingSubjects)
	if r.Protected || r.Operation == OpNone {
		return nil
	}
	if r.Operation == OpRecreate {
		if err := st.Delete(ctx, want.Namespace, cur.Name, cur.UID); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return save(ctx, st, want.Namespace, want.DeepCopy(), false)
	}
	obj := want.DeepCopy()
	if found {
		obj = cur.DeepCopy()
	}
	obj.Labels, obj.Annotations, obj.Subjects = r.Labels, r.Annotations, r.Subjects
	return save(ctx, st, want.Namespace, obj, found)
}

// save updates an object read before, or creates a missing one; a
// concurrent change asks for another attempt.
func save(ctx context.Context, st ObjectStore, namespace string, obj runtime.Object, update bool) error {
	var err error
	if update {
		err = st.Update(ctx, namespace, obj)
		if apierrors.IsNotFound(err) {
			return errRetry
		}
		return err
	}
	err = st.Create(ctx, namespace, obj)
	if apierrors.IsAlreadyExists(err) {
		return errRetry
	}
	return err
}

func ensureNamespace(ctx context.Context, st ObjectStore, name string) error {
	if st == nil {
		return nil
	}
	_, err := st.Get(ctx, "", name)
	if !apierrors.IsNotFound(err) {
		return err
	}
	err = st.Create(ctx, "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// aggregatedFrom maps the roles that became aggregated to the roles their
// rules moved to (upstream's ClusterRolesToAggregate).
var aggregatedFrom = map[string]string{
	"admin": "system:aggregate-to-admin",
	"edit":  "system:aggregate-to-edit",
	"view":  "system:aggregate-to-view",
}

// primeAggregated copies an old admin, edit or view role (without an
// aggregationRule) to its system:aggregate-to-* name when that is
// missing, so its custom rules stay granted.
func primeAggregated(ctx context.Context, st ObjectStore) error {
	for _, old := range []string{"admin", "edit", "view"} {
		if _, found, err := get[*rbacv1.ClusterRole](ctx, st, "", aggregatedFrom[old]); err != nil || found {
			if err != nil {
				return err
			}
			continue
		}
		existing, found, err := get[*rbacv1.ClusterRole](ctx, st, "", old)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		if existing.AggregationRule != nil {
			return nil
		}
		c := existing.DeepCopy()
		c.Name, c.ResourceVersion, c.UID = aggregatedFrom[old], "", ""
		if err := st.Create(ctx, "", c); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

// primeSplitBindings creates system:public-info-viewer from an existing
// system:discovery binding's subjects, labels and annotations when it is
// missing (upstream's ClusterRoleBindingsToSplit).
func primeSplitBindings(ctx context.Context, p *Policy, st ObjectStore) error {
	var target *rbacv1.ClusterRoleBinding
	for _, b := range p.ClusterRoleBindings {
		if b.Name == "system:public-info-viewer" {
			target = b
		}
	}
	if target == nil {
		return nil
	}
	src, found, err := get[*rbacv1.ClusterRoleBinding](ctx, st, "", "system:discovery")
	if err != nil || !found {
		return err
	}
	if _, found, err := get[*rbacv1.ClusterRoleBinding](ctx, st, "", target.Name); err != nil || found {
		return err
	}
	b := target.DeepCopy()
	b.Subjects, b.Labels, b.Annotations = src.Subjects, src.Labels, src.Annotations
	if err := st.Create(ctx, "", b); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}
