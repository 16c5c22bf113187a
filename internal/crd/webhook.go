package crd

import (
	"context"
	"errors"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/rest"
)

// webhookConverter converts custom resources by calling their CRD's
// conversion webhook, as upstream's webhookConverter: one
// ConversionReview per call, in the first of the CRD's
// conversionReviewVersions regis speaks (v1, v1beta1), holding every
// object not yet at the desired version; the answer is checked (uid,
// result, count, apiVersion and kind, metadata other than labels and
// annotations unchanged) before it is used.
type webhookConverter struct {
	client         *rest.RESTClient
	reviewVersions []string
}

func newWebhookConverter(crd *apiextensionsv1.CustomResourceDefinition, opts WebhookOptions) (*webhookConverter, error) {
	w := crd.Spec.Conversion.Webhook
	if w == nil {
		return nil, errors.New("webhook configuration must have either service or URL")
	}
	client, err := webhookClient(w.ClientConfig, opts)
	if err != nil {
		return nil, err
	}
	return &webhookConverter{client: client, reviewVersions: w.ConversionReviewVersions}, nil
}

// convert converts objs, all of kind in (its version: where they come
// from), to toGV. list says they are the items of one list (upstream's
// messages then name an index). The objects are not changed; the result
// holds new objects, or the same ones for those already at toGV.
func (c *webhookConverter) convert(ctx context.Context, in schema.GroupVersionKind, objs []*unstructured.Unstructured, toGV schema.GroupVersion, list bool) ([]*unstructured.Unstructured, error) {
	desired := toGV.String()
	if !list && len(objs) == 1 && isEmptyObject(objs[0]) {
		// Upstream's special case: an empty object is relabelled.
		out := objs[0].DeepCopy()
		out.SetAPIVersion(desired)
		return []*unstructured.Unstructured{out}, nil
	}
	var send []runtime.RawExtension
	for _, o := range objs {
		if o.GetAPIVersion() != desired {
			send = append(send, runtime.RawExtension{Object: o})
		}
	}
	if len(send) == 0 {
		return objs, nil
	}
	uid := uuid.NewUUID()
	request, response, err := reviewObjects(c.reviewVersions, send, desired, uid)
	if err != nil {
		return nil, err
	}
	if err := c.client.Post().Body(request).Do(ctx).Into(response); err != nil {
		return nil, fmt.Errorf("conversion webhook for %v failed: %v", in, err)
	}
	converted, err := convertedObjects(uid, response)
	if err != nil {
		return nil, fmt.Errorf("conversion webhook for %v failed: %v", in, err)
	}
	if len(converted) != len(send) {
		return nil, fmt.Errorf("conversion webhook for %v returned %d objects, expected %d", in, len(converted), len(send))
	}
	out := make([]*unstructured.Unstructured, len(objs))
	next := 0
	for i, original := range objs {
		if original.GetAPIVersion() == desired {
			out[i] = original
			continue
		}
		raw := converted[next]
		next++
		if out[i], err = checkConverted(in, original, raw, toGV, list, next); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkConverted validates one converted object and restores its
// metadata but labels and annotations, with upstream's messages (index is
// upstream's: of a list, counted from 1 after the object).
func checkConverted(in schema.GroupVersionKind, original *unstructured.Unstructured, raw runtime.RawExtension, toGV schema.GroupVersion, list bool, index int) (*unstructured.Unstructured, error) {
	converted := &unstructured.Unstructured{}
	if raw.Object != nil {
		u, ok := raw.Object.(*unstructured.Unstructured)
		if !ok {
			return nil, fmt.Errorf("conversion webhook for %v failed, unexpected type %T at index 0", in, raw.Object)
		}
		converted = u
	} else if err := converted.UnmarshalJSON(raw.Raw); err != nil {
		if list {
			return nil, fmt.Errorf("conversion webhook for %v returned invalid converted object at index %v: %v", in, index-1, err)
		}
		return nil, err
	}
	gv := converted.GroupVersionKind().GroupVersion()
	kind := converted.GroupVersionKind().Kind
	if list {
		switch {
		case gv != toGV:
			return nil, fmt.Errorf("conversion webhook for %v returned invalid converted object at index %v: invalid groupVersion (expected %v, received %v)", in, index, toGV, gv)
		case kind != original.GetKind():
			return nil, fmt.Errorf("conversion webhook for %v returned invalid converted object at index %v: invalid kind (expected %v, received %v)", in, index, original.GetKind(), kind)
		}
		if err := validateConverted(original, converted); err != nil {
			return nil, fmt.Errorf("conversion webhook for %v returned invalid converted object at index %v: %v", in, index, err)
		}
		if err := restoreObjectMeta(original, converted); err != nil {
			return nil, fmt.Errorf("conversion webhook for %v returned invalid metadata in object at index %v: %v", in, index, err)
		}
		return converted, nil
	}
	switch {
	case gv != toGV:
		return nil, fmt.Errorf("conversion webhook for %v returned invalid object at index 0: invalid groupVersion (expected %v, received %v)", in, toGV, gv)
	case kind != in.Kind:
		return nil, fmt.Errorf("conversion webhook for %v returned invalid object at index 0: invalid kind (expected %v, received %v)", in, in.Kind, kind)
	}
	if err := validateConverted(original, converted); err != nil {
		return nil, fmt.Errorf("conversion webhook for %v returned invalid object: %v", in, err)
	}
	if err := restoreObjectMeta(original, converted); err != nil {
		return nil, fmt.Errorf("conversion webhook for %v returned invalid metadata: %v", in, err)
	}
	return converted, nil
}

// reviewObjects returns a ConversionReview request and an empty response
// in the first version of versions regis speaks.
func reviewObjects(versions []string, objects []runtime.RawExtension, desired string, uid types.UID) (request, response runtime.Object, err error) {
	for _, v := range versions {
		switch v {
		case apiextensionsv1beta1.SchemeGroupVersion.Version:
			return &apiextensionsv1beta1.ConversionReview{
				Request:  &apiextensionsv1beta1.ConversionRequest{Objects: objects, DesiredAPIVersion: desired, UID: uid},
				Response: &apiextensionsv1beta1.ConversionResponse{},
			}, &apiextensionsv1beta1.ConversionReview{}, nil
		case apiextensionsv1.SchemeGroupVersion.Version:
			return &apiextensionsv1.ConversionReview{
				Request:  &apiextensionsv1.ConversionRequest{Objects: objects, DesiredAPIVersion: desired, UID: uid},
				Response: &apiextensionsv1.ConversionResponse{},
			}, &apiextensionsv1.ConversionReview{}, nil
		}
	}
	return nil, nil, errors.New("no supported conversion review versions")
}

// convertedObjects checks a webhook's ConversionReview and returns its
// converted objects; v1beta1 answers are not checked for kind and uid,
// as upstream.
func convertedObjects(uid types.UID, response runtime.Object) ([]runtime.RawExtension, error) {
	var result metav1.Status
	var objects []runtime.RawExtension
	switch r := response.(type) {
	case *apiextensionsv1.ConversionReview:
		want := apiextensionsv1.SchemeGroupVersion.WithKind("ConversionReview")
		if r.GroupVersionKind() != want {
			return nil, fmt.Errorf("expected webhook response of %v, got %v", want.String(), r.GroupVersionKind().String())
		}
		if r.Response == nil {
			return nil, errors.New("no response provided")
		}
		if r.Response.UID != uid {
			return nil, fmt.Errorf("expected response.uid=%q, got %q", uid, r.Response.UID)
		}
		result, objects = r.Response.Result, r.Response.ConvertedObjects
	case *apiextensionsv1beta1.ConversionReview:
		if r.Response == nil {
			return nil, errors.New("no response provided")
		}
		result, objects = r.Response.Result, r.Response.ConvertedObjects
	default:
		return nil, fmt.Errorf("unrecognized response type: %T", response)
	}
	if result.Status != metav1.StatusSuccess {
		if len(result.Message) > 0 {
			return nil, errors.New(result.Message)
		}
		return nil, fmt.Errorf("response.result.status was '%s', not 'Success'", result.Status)
	}
	return objects, nil
}

// validateConverted checks that a webhook kept kind, name, namespace and
// uid.
func validateConverted(in, out *unstructured.Unstructured) error {
	if e, a := in.GetKind(), out.GetKind(); e != a {
		return fmt.Errorf("must have the same kind: %v != %v", e, a)
	}
	if e, a := in.GetName(), out.GetName(); e != a {
		return fmt.Errorf("must have the same name: %v != %v", e, a)
	}
	if e, a := in.GetNamespace(), out.GetNamespace(); e != a {
		return fmt.Errorf("must have the same namespace: %v != %v", e, a)
	}
	if e, a := in.GetUID(), out.GetUID(); e != a {
		return fmt.Errorf("must have the same UID: %v != %v", e, a)
	}
	return nil
}

// restoreObjectMeta sets converted's metadata to a copy of original's,
// but for the labels and annotations the webhook returned, which must be
// valid when they changed.
func restoreObjectMeta(original, converted *unstructured.Unstructured) error {
	obj, found := converted.Object["metadata"]
	if !found {
		return errors.New("missing metadata in converted object")
	}
	answered, ok := obj.(map[string]any)
	if !ok {
		return fmt.Errorf("invalid metadata of type %T in converted object", obj)
	}
	if _, ok := original.Object["metadata"]; !ok {
		converted.Object["metadata"] = map[string]any{}
	} else {
		converted.Object["metadata"] = runtime.DeepCopyJSONValue(original.Object["metadata"])
	}
	restored, ok := converted.Object["metadata"].(map[string]any)
	if !ok {
		return fmt.Errorf("invalid metadata of type %T in input object", converted.Object["metadata"])
	}
	for _, fld := range []string{"labels", "annotations"} {
		v, found := answered[fld]
		if !found || v == nil {
			delete(restored, fld)
			continue
		}
		got, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("invalid metadata.%s of type %T in converted object", fld, v)
		}
		had, ok := restored[fld].(map[string]any)
		if !ok && restored[fld] != nil {
			return fmt.Errorf("invalid metadata.%s of type %T in original object", fld, restored[fld])
		}
		changed := len(had) != len(got)
		for k, v := range got {
			if _, ok := v.(string); !ok {
				return fmt.Errorf("metadata.%s[%s] must be a string, but is %T in converted object", fld, k, v)
			}
			if had[k] != v {
				changed = true
			}
		}
		if changed {
			m := make(map[string]string, len(got))
			for k, v := range got {
				m[k] = v.(string)
			}
			var errs field.ErrorList
			if fld == "labels" {
				errs = metav1validation.ValidateLabels(m, field.NewPath("metadata", "labels"))
			} else {
				errs = apivalidation.ValidateAnnotations(m, field.NewPath("metadata", "annotation"))
			}
			if len(errs) > 0 {
				return errs.ToAggregate()
			}
		}
		restored[fld] = got
	}
	return nil
}

// isEmptyObject tells an object of apiVersion and kind only.
func isEmptyObject(u *unstructured.Unstructured) bool {
	if len(u.Object) != 2 {
		return false
	}
	_, kind := u.Object["kind"]
	_, apiVersion := u.Object["apiVersion"]
	return kind && apiVersion
}
