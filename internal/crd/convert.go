package crd

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// webhookConversion converts between a served version and the storage
// version through a conversion webhook: writes are converted to the
// storage version, reads (gets, lists in one review, watch events) to the
// served version, then pruned and defaulted by the served version's
// schema, as upstream's storage decoder does after converting.
func webhookConversion(conv *webhookConverter, convErr error, storage schema.GroupVersion, served *registry.Resource) *registry.Conversion {
	servedGV := served.GroupVersion()
	kind := served.Kind
	fail := func(err error) error {
		// Upstream's codec error reaches the client as a 500 of reason
		// Unknown with the converter's message.
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
			Code: http.StatusInternalServerError, Message: err.Error()}}
	}
	if convErr != nil {
		// Upstream fails every request of a CRD whose webhook client
		// cannot be made (its serving info is not made).
		refuse := func(runtime.Object) (runtime.Object, error) {
			return nil, fail(fmt.Errorf("conversion webhook for %s/%s: %v", storage.Group, kind, convErr))
		}
		return &registry.Conversion{ToStorage: refuse, FromStorage: refuse,
			NewStored:     func() runtime.Object { return &unstructured.Unstructured{} },
			NewStoredList: func() runtime.Object { return &unstructured.UnstructuredList{} }}
	}
	ctx := context.Background() // the client's timeout bounds each call
	one := func(obj runtime.Object, to schema.GroupVersion) (*unstructured.Unstructured, error) {
		u, ok := cacheable.Unwrap(obj).(*unstructured.Unstructured)
		if !ok {
			return nil, fmt.Errorf("custom resource of type %T", obj)
		}
		from := u.GroupVersionKind()
		if from.Version == "" && to == storage {
			// A served object without its apiVersion: the served one.
			u = u.DeepCopy()
			u.SetAPIVersion(servedGV.String())
			from = u.GroupVersionKind()
		}
		if from.Kind == "" {
			from.Kind = kind
		}
		out, err := conv.convert(ctx, from, []*unstructured.Unstructured{u}, to, false)
		if err != nil {
			return nil, fail(err)
		}
		if out[0] == u {
			out[0] = u.DeepCopy() // the caller's new object
		}
		return out[0], nil
	}
	return &registry.Conversion{
		ToStorage: func(obj runtime.Object) (runtime.Object, error) {
			return one(obj, storage)
		},
		FromStorage: func(obj runtime.Object) (runtime.Object, error) {
			out, err := one(obj, servedGV)
			if err == nil && served.Default != nil {
				served.Default(out)
			}
			return out, err
		},
		FromStorageList: func(items []runtime.Object) ([]runtime.Object, error) {
			in := make([]*unstructured.Unstructured, len(items))
			for i, it := range items {
				u, ok := cacheable.Unwrap(it).(*unstructured.Unstructured)
				if !ok {
					return nil, fmt.Errorf("custom resource of type %T", it)
				}
				in[i] = u
			}
			if len(in) == 0 {
				return nil, nil
			}
			out, err := conv.convert(ctx, storage.WithKind(kind), in, servedGV, true)
			if err != nil {
				return nil, fail(err)
			}
			res := make([]runtime.Object, len(out))
			for i, o := range out {
				if o == in[i] {
					o = o.DeepCopy()
				}
				if served.Default != nil {
					served.Default(o)
				}
				res[i] = o
			}
			return res, nil
		},
		NewStored:     func() runtime.Object { return &unstructured.Unstructured{} },
		NewStoredList: func() runtime.Object { return &unstructured.UnstructuredList{} },
	}
}
