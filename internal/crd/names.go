package crd

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// established reports whether a CRD's names are accepted and it is
// established: what serving its resources waits for.
func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	return apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) &&
		apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.NamesAccepted)
}

// updateNames is upstream's NamingConditionController and
// EstablishingController in one step: it accepts the names no other CRD of
// the group holds, sets NamesAccepted, and Established once the names are
// accepted. changed tells that it wrote the status.
func (c *Controller) updateNames(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) (changed bool, err error) {
	resources, kinds, err := c.namesInGroup(ctx, crd)
	if err != nil {
		return false, err
	}
	names, accepted, est := namesAndConditions(crd, resources, kinds)
	if est.Status == apiextensionsv1.ConditionFalse && est.Reason == "Installing" {
		// The establishing controller's step, at once: regis serves a CRD
		// as soon as it is established.
		est = apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Established,
			Status: apiextensionsv1.ConditionTrue, Reason: "InitialNamesAccepted", Message: "the initial names have been accepted"}
	}
	next := crd.DeepCopy()
	next.Status.AcceptedNames = names
	apihelpers.SetCRDCondition(next, accepted)
	apihelpers.SetCRDCondition(next, est)
	if apiequality.Semantic.DeepEqual(next.Status, crd.Status) {
		return false, nil
	}
	return true, c.updateStatus(ctx, crd.Name, func(cur *apiextensionsv1.CustomResourceDefinition) {
		cur.Status.AcceptedNames = names
		apihelpers.SetCRDCondition(cur, accepted)
		apihelpers.SetCRDCondition(cur, est)
	})
}

// updateStatus writes a CRD's status through the status subresource,
// with what change sets on the stored CRD.
func (c *Controller) updateStatus(ctx context.Context, name string, change func(*apiextensionsv1.CustomResourceDefinition)) error {
	_, _, err := c.crds.Update(ctx, "", name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(Resource.GroupResource(), name)
		}
		next := existing.DeepCopyObject().(*apiextensionsv1.CustomResourceDefinition)
		change(next)
		if c.cfg.TrackStatus != nil {
			return c.cfg.TrackStatus(c.crds, existing, next), nil
		}
		return next, nil
	}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
	return err
}

// namesInGroup are the names the other CRDs of crd's group have accepted:
// plurals, singulars and short names; kinds and list kinds.
func (c *Controller) namesInGroup(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) (resources, kinds sets.Set[string], err error) {
	list, err := c.crds.List(ctx, "", &metainternalversion.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, nil, err
	}
	resources, kinds = sets.New[string](), sets.New[string]()
	for _, it := range items {
		other, ok := cacheable.Unwrap(it).(*apiextensionsv1.CustomResourceDefinition)
		if !ok || other.Spec.Group != crd.Spec.Group || other.Name == crd.Name {
			continue
		}
		n := other.Status.AcceptedNames
		resources.Insert(n.Plural, n.Singular)
		resources.Insert(n.ShortNames...)
		kinds.Insert(n.Kind, n.ListKind)
	}
	return resources, kinds, nil
}

// namesAndConditions is upstream's calculateNamesAndConditions.
func namesAndConditions(in *apiextensionsv1.CustomResourceDefinition, resources, kinds sets.Set[string]) (apiextensionsv1.CustomResourceDefinitionNames, apiextensionsv1.CustomResourceDefinitionCondition, apiextensionsv1.CustomResourceDefinitionCondition) {
	accepted := apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.NamesAccepted, Status: apiextensionsv1.ConditionUnknown}
	requested, old := in.Spec.Names, in.Status.AcceptedNames
	names := in.Status.AcceptedNames
	conflict := func(reason string, err error) {
		accepted.Status, accepted.Reason, accepted.Message = apiextensionsv1.ConditionFalse, reason, err.Error()
	}
	if err := equalToAcceptedOrFresh(requested.Plural, old.Plural, resources); err != nil {
		conflict("PluralConflict", err)
	} else {
		names.Plural = requested.Plural
	}
	if err := equalToAcceptedOrFresh(requested.Singular, old.Singular, resources); err != nil {
		conflict("SingularConflict", err)
	} else {
		names.Singular = requested.Singular
	}
	if !slices.Equal(requested.ShortNames, old.ShortNames) {
		var errs []error
		existing := sets.New(old.ShortNames...)
		for _, s := range requested.ShortNames {
			if existing.Has(s) {
				continue
			}
			if err := equalToAcceptedOrFresh(s, "", resources); err != nil {
				errs = append(errs, err)
			}
		}
		if err := utilerrors.NewAggregate(errs); err != nil {
			conflict("ShortNamesConflict", err)
		} else {
			names.ShortNames = requested.ShortNames
		}
	}
	if err := equalToAcceptedOrFresh(requested.Kind, old.Kind, kinds); err != nil {
		conflict("KindConflict", err)
	} else {
		names.Kind = requested.Kind
	}
	if err := equalToAcceptedOrFresh(requested.ListKind, old.ListKind, kinds); err != nil {
		conflict("ListKindConflict", err)
	} else {
		names.ListKind = requested.ListKind
	}
	names.Categories = requested.Categories
	if accepted.Status == apiextensionsv1.ConditionUnknown {
		accepted.Status, accepted.Reason, accepted.Message = apiextensionsv1.ConditionTrue, "NoConflicts", "no conflicts found"
	}
	est := apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Established,
		Status: apiextensionsv1.ConditionFalse, Reason: "NotAccepted", Message: "not all names are accepted"}
	if old := apihelpers.FindCRDCondition(in, apiextensionsv1.Established); old != nil {
		est = *old
	}
	if est.Status != apiextensionsv1.ConditionTrue && accepted.Status == apiextensionsv1.ConditionTrue {
		est = apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Established,
			Status: apiextensionsv1.ConditionFalse, Reason: "Installing", Message: "the initial names have been accepted"}
	}
	return names, accepted, est
}

// equalToAcceptedOrFresh is upstream's: a name is accepted when it is the
// one already accepted or no other CRD of the group uses it.
func equalToAcceptedOrFresh(requested, accepted string, used sets.Set[string]) error {
	if requested == accepted {
		return nil
	}
	if used.Has(requested) {
		return fmt.Errorf("%q is already in use", requested)
	}
	return nil
}
