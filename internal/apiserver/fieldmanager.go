package apiserver

import (
	"bytes"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/regis-dev/regis/internal/openapi"
	"github.com/regis-dev/regis/internal/registry"
)

// This file is the glue between the handlers and apimachinery's
// managedfields package, as upstream's installer.go makes one field
// manager per resource and subresource. Upstream's hub is the internal
// version; regis's is the served version, so the object converter is the
// identity but for the resources stored in another version.

// typeConverter is built once from the generated definitions, as
// upstream's getOpenAPIModels.
var typeConverter = sync.OnceValues(func() (managedfields.TypeConverter, error) {
	models, err := openapi.Models()
	if err != nil {
		return nil, err
	}
	return managedfields.NewTypeConverter(models, false)
})

// typeConverterOf is the type converter of a resource: the built-in
// one, or for a custom resource one of the built-in definitions and its
// CRD's (upstream's buildOpenAPIModelsForApply).
func typeConverterOf(res *registry.Resource) (managedfields.TypeConverter, error) {
	if res.ApplyModels == nil {
		return typeConverter()
	}
	models, err := openapi.Models()
	if err != nil {
		return nil, err
	}
	custom, err := res.ApplyModels()
	if err != nil {
		return nil, err
	}
	for name, def := range custom {
		models[name] = def
	}
	return managedfields.NewTypeConverter(models, res.PreserveUnknownFields)
}

// fieldManagerKey is the key of a field manager in its row's memo.
type fieldManagerKey struct {
	subresource string
}

// typeConverterKey is the key of a row's type converter in its memo.
type typeConverterKey struct{}

// rowTypeConverter returns the type converter of a row, made once per
// row and shared by its field managers.
func rowTypeConverter(st *registry.Store) (managedfields.TypeConverter, error) {
	tc, err := st.Memo(typeConverterKey{}, func() (any, error) {
		return typeConverterOf(st.Resource())
	})
	if err != nil {
		return nil, err
	}
	return tc.(managedfields.TypeConverter), nil
}

// fieldManager returns the field manager of writes to a resource's
// subresource ("" for the resource itself), made once per row and
// subresource (registry.Store.Memo: dropped with the row when a CRD
// changes or goes).
func fieldManager(st *registry.Store, subresource string) (*managedfields.FieldManager, error) {
	fm, err := st.Memo(fieldManagerKey{subresource}, func() (any, error) {
		tc, err := rowTypeConverter(st)
		if err != nil {
			return nil, err
		}
		kind := st.Resource().GroupVersionKind()
		if subresource == "scale" {
			kind = scaleGV.WithKind("Scale")
		}
		conv := &convertor{reg: st.Registry(), own: st}
		return managedfields.NewDefaultFieldManager(tc, conv, conv, conv, kind, kind.GroupVersion(), subresource, resetFields(st, subresource))
	})
	if err != nil {
		return nil, err
	}
	return fm.(*managedfields.FieldManager), nil
}

// resetFields are the fields a write does not change, which its manager
// does not own: upstream's strategies' GetResetFields, the resource's
// ResetFields or the common rule (the main resource of a kind with a
// status resets the status; the status subresource every other top-level
// field but the metadata).
func resetFields(st *registry.Store, subresource string) map[fieldpath.APIVersion]fieldpath.Filter {
	set := resetSet(st, subresource)
	if set == nil {
		return nil
	}
	v := fieldpath.APIVersion(st.Resource().GroupVersion().String())
	return fieldpath.NewExcludeFilterSetMap(map[fieldpath.APIVersion]*fieldpath.Set{v: set})
}

// resetSet is the set of resetFields' filter (nil: none).
func resetSet(st *registry.Store, subresource string) *fieldpath.Set {
	res := st.Resource()
	set := fieldpath.NewSet()
	if paths, ok := res.ResetFields[subresource]; ok {
		for _, p := range paths {
			parts := strings.Split(p, ".")
			elems := make([]any, len(parts))
			for i, part := range parts {
				elems[i] = part
			}
			set.Insert(fieldpath.MakePathOrDie(elems...))
		}
	} else {
		if !res.Status || (subresource != "" && subresource != "status") {
			return nil
		}
		if subresource == "" {
			set.Insert(fieldpath.MakePathOrDie("status"))
		} else {
			for _, name := range topLevelFields(st.New()) {
				if name != "metadata" && name != "status" {
					set.Insert(fieldpath.MakePathOrDie(name))
				}
			}
		}
	}
	return set
}

// topLevelFields are the JSON names of an object's fields but apiVersion
// and kind.
func topLevelFields(obj runtime.Object) []string {
	t := reflect.TypeOf(obj).Elem()
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// managerOrUserAgent is upstream's: the fieldManager option, else the
// user agent's prefix.
func managerOrUserAgent(manager, userAgent string) string {
	if manager != "" {
		return manager
	}
	return prefixFromUserAgent(userAgent)
}

// prefixFromUserAgent is upstream's: what precedes the first "/",
// unprintable characters dropped, cut at FieldManagerMaxLength bytes.
func prefixFromUserAgent(u string) string {
	m := strings.Split(u, "/")[0]
	buf := bytes.NewBuffer(nil)
	for _, r := range m {
		if !unicode.IsPrint(r) {
			continue
		}
		if buf.Len()+utf8.RuneLen(r) > metav1validation.FieldManagerMaxLength {
			break
		}
		buf.WriteRune(r)
	}
	return buf.String()
}

// trackUpdate records manager's changes from live to obj in obj's
// managedFields, as upstream's handlers do on create, update and the
// non-apply patches (UpdateNoErrors). obj is defaulted first, as
// upstream's decoder defaults. A nil live is a create.
func trackUpdate(st *registry.Store, subresource string, live, obj runtime.Object, manager string) runtime.Object {
	fm, err := fieldManager(st, subresource)
	if err != nil {
		return obj
	}
	if d := st.Resource().Default; d != nil {
		d(obj)
	}
	gvk := st.Resource().GroupVersionKind()
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	if live == nil && subresource == "" {
		if ct := createTrackerOf(st); ct != nil && ct.track(obj, manager) {
			return obj
		}
	}
	if live == nil {
		live = st.New()
	}
	live.GetObjectKind().SetGroupVersionKind(gvk)
	return fm.UpdateNoErrors(live, obj, manager)
}

// TrackStatus records in obj's managedFields the changes a controller of
// the server makes to the status of live, as upstream's controllers write
// through the status subresource: manager "kube-apiserver", Update.
func TrackStatus(st *registry.Store, live, obj runtime.Object) runtime.Object {
	return trackUpdate(st, "status", live, obj, "kube-apiserver")
}

// scalePaths maps each parent's version to where its replicas are: every
// kind regis scales keeps them in spec.replicas.
func scalePaths(gv schema.GroupVersion) managedfields.ResourcePathMappings {
	return managedfields.ResourcePathMappings{gv.String(): fieldpath.MakePathOrDie("spec", "replicas")}
}

// scaleManagedFields is upstream's ScaleHandler around a scale write: the
// parent's managedFields as the Scale's, and back.
type scaleManagedFields struct{ h *managedfields.ScaleHandler }

func newScaleManagedFields(st *registry.Store, parent runtime.Object) scaleManagedFields {
	gv := st.Resource().GroupVersion()
	return scaleManagedFields{managedfields.NewScaleHandler(metaAccessor(parent).GetManagedFields(), gv, scalePaths(gv))}
}

func (s scaleManagedFields) toScale(sc *autoscalingv1.Scale) error {
	mf, err := s.h.ToSubresource()
	sc.ManagedFields = mf
	return err
}

func (s scaleManagedFields) toParent(sc *autoscalingv1.Scale, parent runtime.Object) error {
	mf, err := s.h.ToParent(sc.ManagedFields)
	if err != nil {
		return err
	}
	metaAccessor(parent).SetManagedFields(mf)
	return nil
}

// trackScale records manager's changes from cur to next, Scales whose
// managedFields are the parent's as the scale handler translates them.
func trackScale(st *registry.Store, cur, next *autoscalingv1.Scale, manager string) *autoscalingv1.Scale {
	fm, err := fieldManager(st, "scale")
	if err != nil {
		return next
	}
	cur.GetObjectKind().SetGroupVersionKind(scaleGV.WithKind("Scale"))
	next.GetObjectKind().SetGroupVersionKind(scaleGV.WithKind("Scale"))
	return fm.UpdateNoErrors(cur, next, manager).(*autoscalingv1.Scale)
}
