package builtin

import (
	"context"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/crdschema"
	"github.com/regis-dev/regis/internal/registry"
)

// apiextensionsRows are apiextensions.k8s.io/v1 CustomResourceDefinitions:
// cluster-scoped, stored by kube-apiserver's apiextensions server as
// apiextensions.k8s.io/v1beta1 JSON under
// /registry/apiextensions.k8s.io/customresourcedefinitions (reference §4,
// trap 16). Defaults, strategy and validation are upstream's
// (internal/crdschema); the controllers that accept names, establish and
// clean up are internal/crd's.
func apiextensionsRows() []*registry.Resource {
	return []*registry.Resource{{
		Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions",
		Kind: "CustomResourceDefinition", ShortNames: []string{"crd", "crds"}, Categories: []string{"api-extensions"},
		Status: true, StorageVersion: apiextensionsv1beta1.SchemeGroupVersion, Columns: createdAtColumns,
		New:     newFn[apiextensionsv1.CustomResourceDefinition],
		NewList: newFn[apiextensionsv1.CustomResourceDefinitionList],
		Default: func(o runtime.Object) { crdschema.Default(o.(*apiextensionsv1.CustomResourceDefinition)) },
		PrepareForCreate: func(o runtime.Object) {
			crdschema.PrepareCRDForCreate(o.(*apiextensionsv1.CustomResourceDefinition))
		},
		PrepareForUpdate: func(o, old runtime.Object) {
			crdschema.PrepareCRDForUpdate(o.(*apiextensionsv1.CustomResourceDefinition), old.(*apiextensionsv1.CustomResourceDefinition))
		},
		PrepareForStatusUpdate: func(o, old runtime.Object) {
			crdschema.PrepareCRDForStatusUpdate(o.(*apiextensionsv1.CustomResourceDefinition), old.(*apiextensionsv1.CustomResourceDefinition))
		},
		ValidateCreate: func(o runtime.Object) field.ErrorList {
			return withoutMeta(crdschema.ValidateCRD(context.Background(), o.(*apiextensionsv1.CustomResourceDefinition)))
		},
		ValidateUpdate: func(o, old runtime.Object) field.ErrorList {
			return withoutMeta(crdschema.ValidateCRDUpdate(context.Background(),
				o.(*apiextensionsv1.CustomResourceDefinition), old.(*apiextensionsv1.CustomResourceDefinition)))
		},
		ValidateStatusUpdate: func(o, old runtime.Object) field.ErrorList {
			return withoutMeta(crdschema.ValidateCRDStatusUpdate(context.Background(),
				o.(*apiextensionsv1.CustomResourceDefinition), old.(*apiextensionsv1.CustomResourceDefinition)))
		},
		WarningsOnCreate: func(o runtime.Object) []string {
			return crdschema.WarningsOnCRDCreate(o.(*apiextensionsv1.CustomResourceDefinition))
		},
		WarningsOnUpdate: func(o, old runtime.Object) []string {
			return crdschema.WarningsOnCRDUpdate(o.(*apiextensionsv1.CustomResourceDefinition), old.(*apiextensionsv1.CustomResourceDefinition))
		},
		MarkOnDelete: markCRDDeleting,
		Convert: &registry.Conversion{
			ToStorage:     crdToV1beta1,
			FromStorage:   crdFromV1beta1,
			NewStored:     newFn[apiextensionsv1beta1.CustomResourceDefinition],
			NewStoredList: newFn[apiextensionsv1beta1.CustomResourceDefinitionList],
		},
	}}
}

// markCRDDeleting is what upstream's CRD REST does on the first delete:
// the finalizer that holds the CRD until its custom resources are gone,
// and the Terminating condition.
func markCRDDeleting(o runtime.Object) {
	crd := o.(*apiextensionsv1.CustomResourceDefinition)
	if !apihelpers.CRDHasFinalizer(crd, apiextensionsv1.CustomResourceCleanupFinalizer) {
		crd.Finalizers = append(crd.Finalizers, apiextensionsv1.CustomResourceCleanupFinalizer)
	}
	apihelpers.SetCRDCondition(crd, apiextensionsv1.CustomResourceDefinitionCondition{
		Type: apiextensionsv1.Terminating, Status: apiextensionsv1.ConditionTrue, Reason: "InstanceDeletionPending",
		Message: "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
	})
}

// withoutMeta drops the errors of upstream's CRD validation that the store
// finds itself (ValidateObjectMeta and its update checks), keeping the
// CRD's own check of its name (plural.group).
func withoutMeta(errs field.ErrorList) field.ErrorList {
	var out field.ErrorList
	for _, e := range errs {
		if (e.Field == "metadata" || strings.HasPrefix(e.Field, "metadata.")) && !strings.Contains(e.Detail, "spec.names.plural") {
			continue
		}
		out = append(out, e)
	}
	return out
}

// apiextensionsScheme converts CRDs between v1 and v1beta1 through the
// internal type, with upstream's generated conversions.
var apiextensionsScheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{apiextensions.AddToScheme, apiextensionsv1.AddToScheme, apiextensionsv1beta1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
})

func crdToV1beta1(o runtime.Object) (runtime.Object, error) {
	return convertCRD(o, &apiextensionsv1beta1.CustomResourceDefinition{})
}

func crdFromV1beta1(o runtime.Object) (runtime.Object, error) {
	return convertCRD(o, &apiextensionsv1.CustomResourceDefinition{})
}

func convertCRD(in, out runtime.Object) (runtime.Object, error) {
	s := apiextensionsScheme()
	internal := &apiextensions.CustomResourceDefinition{}
	if err := s.Convert(in, internal, nil); err != nil {
		return nil, err
	}
	if err := s.Convert(internal, out, nil); err != nil {
		return nil, err
	}
	kinds, _, err := s.ObjectKinds(out)
	if err != nil {
		return nil, err
	}
	out.GetObjectKind().SetGroupVersionKind(kinds[0])
	return out, nil
}
