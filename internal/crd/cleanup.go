package crd

import (
	"context"
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"

	"github.com/regis-dev/regis/internal/registry"
)

// finalize is upstream's CRDFinalizer: a CRD being deleted has its custom
// resources deleted, then loses its cleanup finalizer (and is gone).
// done is false while custom resources remain (their own finalizers).
func (c *Controller) finalize(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) (done bool, err error) {
	if s := c.served[crd.Name]; s != nil && !s.terminating.Swap(true) {
		c.markTerminating(s)
	}
	if !apihelpers.CRDHasFinalizer(crd, apiextensionsv1.CustomResourceCleanupFinalizer) {
		return true, nil
	}
	progress := apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Terminating,
		Status: apiextensionsv1.ConditionTrue, Reason: "InstanceDeletionInProgress", Message: "CustomResource deletion is in progress"}
	if cur := apihelpers.FindCRDCondition(crd, apiextensionsv1.Terminating); cur == nil || !apihelpers.IsCRDConditionEquivalent(cur, &progress) {
		err := c.updateStatus(ctx, crd.Name, func(cur *apiextensionsv1.CustomResourceDefinition) {
			apihelpers.SetCRDCondition(cur, progress)
		})
		return err == nil, ignoreGone(err) // the update brings the CRD back here
	}
	cond := apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Terminating,
		Status: apiextensionsv1.ConditionFalse, Reason: "NeverEstablished", Message: "resource was never established"}
	if apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) {
		left, err := c.deleteInstances(ctx, crd)
		if err != nil {
			return false, err
		}
		if left > 0 {
			return false, nil
		}
		cond = apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Terminating,
			Status: apiextensionsv1.ConditionFalse, Reason: "InstanceDeletionCompleted", Message: "removed all instances"}
	}
	err = c.updateStatus(ctx, crd.Name, func(cur *apiextensionsv1.CustomResourceDefinition) {
		apihelpers.SetCRDCondition(cur, cond)
		apihelpers.CRDRemoveFinalizer(cur, apiextensionsv1.CustomResourceCleanupFinalizer)
	})
	return err == nil || apierrors.IsNotFound(err), ignoreGone(err)
}

// markTerminating serves the rows of a CRD being deleted as terminating
// (discovery lists fewer verbs, as upstream's), over the same storage.
func (c *Controller) markTerminating(s *serving) {
	for _, gvr := range s.gvrs {
		st, ok := c.cfg.Registry.Lookup(gvr)
		if !ok {
			continue
		}
		row := *st.Resource()
		row.Terminating = true
		if _, err := c.cfg.Registry.Replace(&row, s.storage); err != nil {
			c.log.Warn("custom resource definition terminating", "resource", gvr.String(), "err", err)
		}
	}
}

// deleteInstances deletes the custom resources of a CRD in every
// namespace and returns how many remain (held by their finalizers).
func (c *Controller) deleteInstances(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) (left int, err error) {
	s := c.served[crd.Name]
	if s == nil || len(s.gvrs) == 0 {
		return 0, nil
	}
	st, ok := c.cfg.Registry.Lookup(s.gvrs[0])
	if !ok {
		return 0, nil
	}
	if _, err := st.DeleteCollection(ctx, "", nil, registry.DeleteOptions{}); err != nil {
		return 0, fmt.Errorf("could not issue all deletes: %w", err)
	}
	list, err := st.List(ctx, "", &metainternalversion.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("could not confirm zero CustomResources remaining: %w", err)
	}
	return meta.LenList(list), nil
}

// ignoreGone drops the errors of a CRD deleted or changed meanwhile: the
// next event brings it back.
func ignoreGone(err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
