package crd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/regis-dev/regis/internal/crdschema"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Rows returns the resource rows of a CRD's served versions and the row
// of its storage version (the one its storage is made for, served or
// not). Every served version but the storage version converts to and
// from it, which with conversion None is changing apiVersion, and with
// conversion Webhook calling the CRD's webhook (as opts say).
func Rows(crd *apiextensionsv1.CustomResourceDefinition, opts WebhookOptions) (served []*registry.Resource, storage *registry.Resource, err error) {
	storageVersion := ""
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			storageVersion = v.Name
		}
	}
	if storageVersion == "" {
		return nil, nil, fmt.Errorf("CustomResourceDefinition %s has no storage version", crd.Name)
	}
	storageGV := schema.GroupVersion{Group: crd.Spec.Group, Version: storageVersion}
	var (
		webhook    *webhookConverter
		webhookErr error
	)
	if c := crd.Spec.Conversion; c != nil && c.Strategy == apiextensionsv1.WebhookConverter {
		webhook, webhookErr = newWebhookConverter(crd, opts)
	}
	for _, v := range crd.Spec.Versions {
		r, err := row(crd, v.Name)
		if err != nil {
			return nil, nil, err
		}
		if v.Name == storageVersion {
			storage = r
		} else {
			r.Convert = relabel(storageGV, r)
			if webhook != nil || webhookErr != nil {
				r.Convert = webhookConversion(webhook, webhookErr, storageGV, r)
			}
			r.StorageVersion = storageGV // discovery's storageVersionHash
		}
		if v.Served {
			served = append(served, r)
		}
	}
	if storage == nil {
		return nil, nil, fmt.Errorf("CustomResourceDefinition %s: storage version %s not found", crd.Name, storageVersion)
	}
	return served, storage, nil
}

// forbidCreate is upstream's forbidCreateAdmission: no new custom
// resource while its CRD is being deleted.
func forbidCreate(gr schema.GroupResource, terminating *atomic.Bool) func(string) error {
	return func(name string) error {
		if terminating != nil && terminating.Load() {
			return apierrors.NewForbidden(gr, name, errors.New("create not allowed while custom resource definition is terminating"))
		}
		return nil
	}
}

// row is the resource row of one version of a CRD.
func row(crd *apiextensionsv1.CustomResourceDefinition, version string) (*registry.Resource, error) {
	s, err := crdschema.Compile(crd, version)
	if err != nil {
		return nil, err
	}
	names := crd.Status.AcceptedNames
	gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: version, Kind: names.Kind}
	listGVK := gvk.GroupVersion().WithKind(names.ListKind)
	r := &registry.Resource{
		Group: crd.Spec.Group, Version: version, Resource: names.Plural, Kind: names.Kind, Singular: names.Singular,
		Namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		ShortNames: names.ShortNames, Categories: names.Categories,
		Custom: true, Generation: true, Status: s.HasStatus(), RequireResourceVersion: true,
		ApplyModels:           func() (map[string]*spec.Schema, error) { return applyModels(crd) },
		PreserveUnknownFields: crd.Spec.PreserveUnknownFields,
		OpenAPIModels: func(v2 bool) (map[string]*spec.Schema, error) {
			return crdschema.OpenAPIDefinitions(crd, version, crdschema.OpenAPIOptions{V2: v2, IncludeSelectableFields: true})
		},
		New: func() runtime.Object {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			return u
		},
		NewList: func() runtime.Object {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(listGVK)
			return l
		},
		Prune: func(obj runtime.Object) ([]string, error) { return s.Prune(content(obj)) },
		Default: func(obj runtime.Object) {
			u := content(obj)
			_ = s.PruneStored(u)
			s.Default(u)
		},
		ValidateCreate: func(obj runtime.Object) field.ErrorList {
			return s.Validate(context.Background(), content(obj), nil)
		},
		ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
			return s.Validate(context.Background(), content(obj), content(old))
		},
		ValidateStatusUpdate: func(obj, old runtime.Object) field.ErrorList {
			return s.ValidateStatus(context.Background(), content(obj), content(old))
		},
	}
	if sel := crdschema.NewSelectableFields(crd, version); sel != nil && len(sel.Names()) > 0 {
		r.Fields = func(obj runtime.Object) fields.Set {
			values, err := sel.Values(content(obj))
			if err != nil {
				return nil
			}
			return values
		}
	}
	cols, err := crdschema.ColumnsForVersion(crd, version)
	if err != nil {
		return nil, err
	}
	// A column whose JSONPath does not parse is left out, as upstream
	// serves the columns before it.
	tc, _ := crdschema.NewTableConvertor(cols)
	r.Table = func(ctx context.Context, obj runtime.Object, opts *metav1.TableOptions) (*metav1.Table, error) {
		return tc.ConvertToTable(ctx, plain(obj), opts)
	}
	r.Deprecation = deprecationWarning(crd, version)
	if sub := versionSubresources(crd, version); sub != nil && sub.Scale != nil {
		r.Scale = scaleRule(sub.Scale)
	}
	return r, nil
}

// applyModels are the definitions of every version of a CRD, as upstream's
// buildOpenAPIModelsForApply adds them to the built-in ones.
func applyModels(crd *apiextensionsv1.CustomResourceDefinition) (map[string]*spec.Schema, error) {
	out := map[string]*spec.Schema{}
	for _, v := range crd.Spec.Versions {
		defs, err := crdschema.OpenAPIDefinitions(crd, v.Name, crdschema.OpenAPIOptions{})
		if err != nil {
			return nil, err
		}
		for name, def := range defs {
			out[name] = def
		}
	}
	return out, nil
}

// deprecationWarning is the warning of every request to a deprecated
// version, as upstream's: the version's own, or "G/V K is deprecated;
// use G/V' K" naming the newest served version that is not deprecated.
func deprecationWarning(crd *apiextensionsv1.CustomResourceDefinition, name string) string {
	var this *apiextensionsv1.CustomResourceDefinitionVersion
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == name {
			this = &crd.Spec.Versions[i]
		}
	}
	if this == nil || !this.Deprecated {
		return ""
	}
	if this.DeprecationWarning != nil {
		return *this.DeprecationWarning
	}
	msg := fmt.Sprintf("%s/%s %s is deprecated", crd.Spec.Group, name, crd.Spec.Names.Kind)
	var newer []string
	for _, v := range crd.Spec.Versions {
		if v.Served && !v.Deprecated && version.CompareKubeAwareVersionStrings(name, v.Name) < 0 {
			newer = append(newer, v.Name)
		}
	}
	if len(newer) == 0 {
		return msg
	}
	sort.Slice(newer, func(i, j int) bool { return version.CompareKubeAwareVersionStrings(newer[i], newer[j]) > 0 })
	return msg + fmt.Sprintf("; use %s/%s %s", crd.Spec.Group, newer[0], crd.Spec.Names.Kind)
}

func versionSubresources(crd *apiextensionsv1.CustomResourceDefinition, version string) *apiextensionsv1.CustomResourceSubresources {
	for _, v := range crd.Spec.Versions {
		if v.Name == version {
			return v.Subresources
		}
	}
	return nil
}

// content is the JSON object of a custom resource.
func content(obj runtime.Object) map[string]any {
	if obj == nil {
		return nil
	}
	if u, ok := cacheable.Unwrap(obj).(*unstructured.Unstructured); ok {
		return u.Object
	}
	return nil
}

// plain returns obj with a list's items unwrapped from the watch cache's
// wrappers, as the table convertor reads plain objects.
func plain(obj runtime.Object) runtime.Object {
	obj = cacheable.Unwrap(obj)
	if !meta.IsListType(obj) {
		return obj
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		return obj
	}
	out := &unstructured.UnstructuredList{Object: map[string]any{}}
	if l, err := meta.ListAccessor(obj); err == nil {
		out.SetResourceVersion(l.GetResourceVersion())
		out.SetContinue(l.GetContinue())
		out.SetRemainingItemCount(l.GetRemainingItemCount())
	}
	for _, it := range items {
		if u, ok := cacheable.Unwrap(it).(*unstructured.Unstructured); ok {
			out.Items = append(out.Items, *u)
		}
	}
	return out
}

// relabel converts between a served version and the storage version
// under conversion None: the same object, another apiVersion; an object
// read through the served version is then defaulted by that version's
// schema, as upstream defaults after converting.
func relabel(storage schema.GroupVersion, served *registry.Resource) *registry.Conversion {
	to := func(gv schema.GroupVersion, deflt bool) func(runtime.Object) (runtime.Object, error) {
		return func(obj runtime.Object) (runtime.Object, error) {
			u, ok := cacheable.Unwrap(obj).(*unstructured.Unstructured)
			if !ok {
				return nil, fmt.Errorf("custom resource of type %T", obj)
			}
			if deflt && served.Default != nil {
				out := u.DeepCopy() // defaulting writes into nested maps the cache shares
				out.SetAPIVersion(gv.String())
				served.Default(out)
				return out, nil
			}
			out := &unstructured.Unstructured{Object: make(map[string]any, len(u.Object))}
			for k, v := range u.Object {
				out.Object[k] = v
			}
			out.SetAPIVersion(gv.String())
			return out, nil
		}
	}
	return &registry.Conversion{
		ToStorage:     to(storage, false),
		FromStorage:   to(served.GroupVersion(), true),
		NewStored:     func() runtime.Object { return &unstructured.Unstructured{} },
		NewStoredList: func() runtime.Object { return &unstructured.UnstructuredList{} },
	}
}

// scaleRule reads and writes replicas at the CRD's scale paths.
func scaleRule(sc *apiextensionsv1.CustomResourceSubresourceScale) *registry.ScaleRule {
	return &registry.ScaleRule{
		Replicas: func(obj runtime.Object) (spec, status int32, selector string) {
			u := content(obj)
			spec = int32(nestedInt(u, sc.SpecReplicasPath))
			status = int32(nestedInt(u, sc.StatusReplicasPath))
			if sc.LabelSelectorPath != nil {
				if s, ok, _ := unstructured.NestedString(u, splitPath(*sc.LabelSelectorPath)...); ok {
					if _, err := labels.Parse(s); err == nil {
						selector = s
					}
				}
			}
			return spec, status, selector
		},
		SetReplicas: func(obj runtime.Object, replicas int32) {
			_ = unstructured.SetNestedField(content(obj), int64(replicas), splitPath(sc.SpecReplicasPath)...)
		},
	}
}

func nestedInt(obj map[string]any, path string) int64 {
	if path == "" {
		return 0
	}
	n, _, _ := unstructured.NestedInt64(obj, splitPath(path)...)
	return n
}

// splitPath turns ".spec.replicas" into its fields.
func splitPath(path string) []string {
	return strings.Split(strings.TrimPrefix(path, "."), ".")
}
