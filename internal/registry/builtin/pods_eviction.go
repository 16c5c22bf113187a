package builtin

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// podEviction is pods/eviction (kubectl drain): a pod is deleted unless a
// PodDisruptionBudget forbids it, as upstream's EvictionREST.
var podEviction = registry.SubresourceRule{
	Name: "eviction", Kind: policyv1.SchemeGroupVersion.WithKind("Eviction"), Verbs: []string{"create"},
	New:     func() runtime.Object { return &policyv1.Eviction{} },
	Accepts: []schema.GroupVersion{policyv1beta1.SchemeGroupVersion},
	Create:  evictPod,
}

var pdbGVR = policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")

// maxDisruptedPods is upstream's MaxDisruptedPodSize.
const maxDisruptedPods = 2000

// evictionConflictRetries bounds the retries on conflicting writes
// (upstream's EvictionsRetry: 20 steps).
const evictionConflictRetries = 20

func evictPod(ctx context.Context, st *registry.Store, namespace, name string, req runtime.Object, opts registry.CreateOptions) (runtime.Object, error) {
	ev := req.(*policyv1.Eviction)
	if ev.Name != name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Eviction object")
	}
	evGK := schema.GroupKind{Group: policyv1.GroupName, Kind: "Eviction"}
	if d := ev.DeleteOptions; d != nil && d.IgnoreStoreReadErrorWithClusterBreakingPotential != nil && *d.IgnoreStoreReadErrorWithClusterBreakingPotential {
		return nil, apierrors.NewInvalid(evGK, name, field.ErrorList{field.Invalid(
			field.NewPath("deleteOptions").Child("ignoreStoreReadErrorWithClusterBreakingPotential"), true,
			"can not be set for pod eviction, try after removing the option")})
	}
	del := metav1.DeleteOptions{}
	if ev.DeleteOptions != nil {
		del = *ev.DeleteOptions.DeepCopy()
	}
	dry := opts.DryRun || len(del.DryRun) > 0
	rvUnset := del.Preconditions == nil || del.Preconditions.ResourceVersion == nil

	// A pod no budget protects (not running, or being deleted) goes at once.
	var pod *corev1.Pod
	for attempt := 0; ; attempt++ {
		obj, err := st.Get(ctx, namespace, name, &metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		pod = obj.(*corev1.Pod)
		if !canIgnorePDB(pod) {
			break
		}
		d := del
		if shouldEnforceResourceVersion(pod) && rvUnset {
			d = withResourceVersion(d, pod.ResourceVersion)
		}
		err = deleteEvicted(ctx, st, namespace, name, d, dry)
		if apierrors.IsConflict(err) && rvUnset && attempt < evictionConflictRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &metav1.Status{Status: metav1.StatusSuccess}, nil
	}

	pdbs, err := podBudgets(ctx, st, pod)
	if err != nil {
		return nil, err
	}
	if len(pdbs) > 1 {
		return &metav1.Status{Status: metav1.StatusFailure, Code: 500,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."}, nil
	}
	unhealthyOK := false
	if len(pdbs) == 1 {
		pdb := pdbs[0]
		if !podReady(pod) && (pdb.Spec.UnhealthyPodEvictionPolicy != nil && *pdb.Spec.UnhealthyPodEvictionPolicy == policyv1.AlwaysAllow ||
			pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0) {
			unhealthyOK = true
		} else if err := decrementBudget(ctx, st, pdb, pod.Name, dry); err != nil {
			return nil, err
		}
	}
	d := del
	if unhealthyOK {
		d = withResourceVersion(d, pod.ResourceVersion)
	}
	if err := deleteEvicted(ctx, st, namespace, name, d, dry); err != nil {
		if apierrors.IsConflict(err) && unhealthyOK && rvUnset {
			return nil, budgetProcessing(pdbs[0].Name)
		}
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess}, nil
}

func canIgnorePDB(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, corev1.PodPending:
		return true
	}
	return pod.DeletionTimestamp != nil
}

func shouldEnforceResourceVersion(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func withResourceVersion(d metav1.DeleteOptions, rv string) metav1.DeleteOptions {
	d = *d.DeepCopy()
	if d.Preconditions == nil {
		d.Preconditions = &metav1.Preconditions{}
	}
	d.Preconditions.ResourceVersion = &rv
	return d
}

// deleteEvicted marks the pod as a disruption target (through its status,
// as upstream's eviction store does), then deletes it.
func deleteEvicted(ctx context.Context, st *registry.Store, namespace, name string, d metav1.DeleteOptions, dry bool) error {
	if !dry {
		out, _, err := st.Update(ctx, namespace, name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
			pod := existing.(*corev1.Pod)
			if p := d.Preconditions; p != nil {
				gr := schema.GroupResource{Resource: "Pod"}
				if p.UID != nil && *p.UID != "" && *p.UID != pod.UID {
					return nil, apierrors.NewConflict(gr, pod.Name, fmt.Errorf(
						"the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", *p.UID, pod.UID))
				}
				if p.ResourceVersion != nil && *p.ResourceVersion != "" && *p.ResourceVersion != pod.ResourceVersion {
					return nil, apierrors.NewConflict(gr, pod.Name, fmt.Errorf(
						"the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%s). The object might have been modified", *p.ResourceVersion, pod.ResourceVersion))
				}
			}
			setPodCondition(&pod.Status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
				Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting"})
			return pod, nil
		}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
		if err != nil {
			return err
		}
		if d.Preconditions != nil && d.Preconditions.ResourceVersion != nil {
			d = withResourceVersion(d, out.(*corev1.Pod).ResourceVersion)
		}
	}
	_, _, err := st.Delete(ctx, namespace, name, registry.DeleteOptions{DeleteOptions: d, DryRun: dry})
	return err
}

// podBudgets returns the budgets of the pod's namespace whose selector
// matches it.
func podBudgets(ctx context.Context, st *registry.Store, pod *corev1.Pod) ([]*policyv1.PodDisruptionBudget, error) {
	pdbStore, ok := st.Registry().Lookup(pdbGVR)
	if !ok {
		return nil, nil
	}
	list, err := pdbStore.List(ctx, pod.Namespace, &metainternalversion.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*policyv1.PodDisruptionBudget
	for i := range list.(*policyv1.PodDisruptionBudgetList).Items {
		pdb := &list.(*policyv1.PodDisruptionBudgetList).Items[i]
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, pdb)
	}
	return out, nil
}

// decrementBudget takes one disruption from the budget, or refuses the
// eviction with upstream's answers.
func decrementBudget(ctx context.Context, st *registry.Store, pdb *policyv1.PodDisruptionBudget, podName string, dry bool) error {
	pdbStore, _ := st.Registry().Lookup(pdbGVR)
	for attempt := 0; ; attempt++ {
		if err := checkBudget(pdb); err != nil {
			return err
		}
		if dry {
			return nil
		}
		_, _, err := pdbStore.Update(ctx, pdb.Namespace, pdb.Name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
			cur := existing.(*policyv1.PodDisruptionBudget)
			if cur.ResourceVersion != pdb.ResourceVersion {
				return nil, apierrors.NewConflict(schema.GroupResource{Group: policyv1.GroupName, Resource: "poddisruptionbudgets"}, pdb.Name,
					errors.New(registry.OptimisticLockErrorMsg))
			}
			cur.Status.DisruptionsAllowed--
			if cur.Status.DisruptionsAllowed == 0 {
				apimeta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: policyv1.DisruptionAllowedCondition,
					Reason: policyv1.InsufficientPodsReason, Status: metav1.ConditionFalse, ObservedGeneration: cur.Status.ObservedGeneration})
			}
			if cur.Status.DisruptedPods == nil {
				cur.Status.DisruptedPods = map[string]metav1.Time{}
			}
			cur.Status.DisruptedPods[podName] = metav1.Now()
			return cur, nil
		}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
		if !apierrors.IsConflict(err) {
			return err
		}
		if attempt == evictionConflictRetries {
			return apierrors.NewTimeoutError(fmt.Sprintf("couldn't update PodDisruptionBudget %q due to conflicts", pdb.Name), 10)
		}
		obj, err := pdbStore.Get(ctx, pdb.Namespace, pdb.Name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		pdb = obj.(*policyv1.PodDisruptionBudget)
	}
}

// checkBudget is upstream's checkAndDecrement before the write.
func checkBudget(pdb *policyv1.PodDisruptionBudget) error {
	budgetCause := func(err *apierrors.StatusError, msg string) error {
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause, Message: msg})
		return err
	}
	gr := schema.GroupResource{Group: policyv1.GroupName, Resource: "poddisruptionbudget"}
	switch {
	case pdb.Status.ObservedGeneration < pdb.Generation:
		return budgetProcessing(pdb.Name)
	case pdb.Status.DisruptionsAllowed < 0:
		return budgetCause(apierrors.NewForbidden(gr, pdb.Name, errors.New("pdb disruptions allowed is negative")),
			fmt.Sprintf("The disruption budget %s does not allow evicting pods currently: pdb disruptions allowed is negative", pdb.Name))
	case len(pdb.Status.DisruptedPods) > maxDisruptedPods:
		return budgetCause(apierrors.NewForbidden(gr, pdb.Name, errors.New("DisruptedPods map too big - too many evictions not confirmed by PDB controller")),
			fmt.Sprintf("The disruption budget %s does not allow evicting pods currently: too many pending evictions not confirmed by PDB controller", pdb.Name))
	case pdb.Status.DisruptionsAllowed == 0:
		return budgetCause(apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0), budgetMessage(pdb))
	}
	return nil
}

func budgetMessage(pdb *policyv1.PodDisruptionBudget) string {
	c := apimeta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	failed := c != nil && c.Status == metav1.ConditionFalse && c.Message != ""
	switch {
	case failed && c.Reason == policyv1.SyncFailedReason:
		return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently because it failed sync: %s", pdb.Name, c.Message)
	case pdb.Status.CurrentHealthy <= pdb.Status.DesiredHealthy:
		return fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy)
	case failed:
		return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently (%s): %s", pdb.Name, c.Reason, c.Message)
	}
	return fmt.Sprintf("The disruption budget %s does not allow evicting pods currently", pdb.Name)
}

// budgetProcessing is upstream's createTooManyRequestsError: the budget's
// controller has not caught up.
func budgetProcessing(name string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
		Message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", name)})
	return err
}
