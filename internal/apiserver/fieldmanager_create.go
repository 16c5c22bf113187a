package apiserver

import (
	"reflect"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/regis-dev/regis/internal/registry"
)

// A create's managedFields without the compare. On a create, upstream's
// FieldManager.UpdateNoErrors converts the empty live object and the new
// one to typed values, validating both, compares them, and records what
// the comparison added or modified, less the reset fields and the
// metadata it strips, as the one entry of the manager. createTracker
// builds that entry from one walk of the new object (createWalker),
// against the live object converted once per resource. Whatever it does
// not follow goes to UpdateNoErrors: managedFields in the request, a
// manager name JSON would change, an object the walk gives up on.

// createTrackerKey is the key of a row's createTracker in its memo.
type createTrackerKey struct{}

// createTracker is what a row's creates share: the schema, the empty
// live object as a typed value, the reset fields.
type createTracker struct {
	schema  *smdschema.Schema
	typeRef smdschema.TypeRef
	live    value.Value
	gv      schema.GroupVersion
	version fieldpath.APIVersion
	reset   fieldpath.Filter
	conv    *convertor
}

// stripSet is upstream's stripMetaManager's: fields no manager owns.
var stripSet = fieldpath.NewSet(
	fieldpath.MakePathOrDie("apiVersion"),
	fieldpath.MakePathOrDie("kind"),
	fieldpath.MakePathOrDie("metadata"),
	fieldpath.MakePathOrDie("metadata", "name"),
	fieldpath.MakePathOrDie("metadata", "namespace"),
	fieldpath.MakePathOrDie("metadata", "creationTimestamp"),
	fieldpath.MakePathOrDie("metadata", "selfLink"),
	fieldpath.MakePathOrDie("metadata", "uid"),
	fieldpath.MakePathOrDie("metadata", "clusterName"),
	fieldpath.MakePathOrDie("metadata", "generation"),
	fieldpath.MakePathOrDie("metadata", "managedFields"),
	fieldpath.MakePathOrDie("metadata", "resourceVersion"),
)

// createTrackerOf returns the row's createTracker, made once (nil if
// the row's live object does not convert: every create then takes the
// slow path).
func createTrackerOf(st *registry.Store) *createTracker {
	ct, err := st.Memo(createTrackerKey{}, func() (any, error) {
		return newCreateTracker(st), nil
	})
	if err != nil {
		return nil
	}
	return ct.(*createTracker)
}

func newCreateTracker(st *registry.Store) *createTracker {
	tc, err := rowTypeConverter(st)
	if err != nil {
		return nil
	}
	gvk := st.Resource().GroupVersionKind()
	conv := &convertor{reg: st.Registry(), own: st}
	live := st.New()
	live.GetObjectKind().SetGroupVersionKind(gvk)
	versioned, err := conv.ConvertToVersion(live, gvk.GroupVersion())
	if err != nil {
		return nil
	}
	tv, err := tc.ObjectToTyped(versioned, typed.AllowDuplicates)
	if err != nil {
		return nil
	}
	version := fieldpath.APIVersion(gvk.GroupVersion().String())
	return &createTracker{
		schema:  tv.Schema(),
		typeRef: tv.TypeRef(),
		live:    tv.AsValue(),
		gv:      gvk.GroupVersion(),
		version: version,
		reset:   resetFields(st, "")[version],
		conv:    conv,
	}
}

// track sets obj's managedFields as UpdateNoErrors(live, obj, manager)
// does for a create of the main resource, where live is the row's empty
// object; false where it leaves that to UpdateNoErrors, with obj as
// UpdateNoErrors would see it.
func (c *createTracker) track(obj runtime.Object, manager string) bool {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	// Managed fields in the body are kept, merged or reset by
	// UpdateNoErrors; an empty list or one empty entry resets them,
	// which on a create is what no list does.
	if mf := acc.GetManagedFields(); len(mf) > 1 || (len(mf) == 1 && !reflect.DeepEqual(mf[0], metav1.ManagedFieldsEntry{})) {
		return false
	}
	// UpdateNoErrors takes them off before it converts the object; to
	// it, no list and a reset are the same.
	acc.SetManagedFields(nil)
	// The manager's name goes through JSON, which replaces invalid
	// UTF-8.
	if manager == "" {
		manager = "unknown"
	}
	if !utf8.ValidString(manager) {
		return false
	}
	set, ok := c.fieldSet(obj)
	if !ok {
		return false
	}
	if c.reset != nil {
		set = c.reset.Filter(set)
	}
	set = set.Difference(stripSet)
	if set.Empty() {
		acc.SetManagedFields(nil)
		return true
	}
	raw, err := set.ToJSON()
	if err != nil {
		return false
	}
	acc.SetManagedFields([]metav1.ManagedFieldsEntry{{
		Manager:    manager,
		Operation:  metav1.ManagedFieldsOperationUpdate,
		APIVersion: string(c.version),
		Time:       &metav1.Time{Time: time.Now().UTC()},
		FieldsType: "FieldsV1",
		FieldsV1:   &metav1.FieldsV1{Raw: raw},
	}})
	return true
}

// fieldSet is the set of fields the comparison of the live object with
// obj adds or modifies, obj seen as ObjectToTyped sees it.
func (c *createTracker) fieldSet(obj runtime.Object) (*fieldpath.Set, bool) {
	versioned, err := c.conv.ConvertToVersion(obj, c.gv)
	if err != nil {
		return nil, false
	}
	w := createWalker{schema: c.schema, alloc: value.NewFreelistAllocator(), root: &fieldpath.Set{}, path: make([]pathStep, 0, 16)}
	var ok bool
	if u, isU := versioned.(*unstructured.Unstructured); isU {
		ok = w.walk(c.typeRef, c.live, value.NewValueInterface(u.UnstructuredContent()))
	} else if rv := reflect.ValueOf(versioned); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		ok = w.rwalk(c.typeRef, c.live, rv)
	}
	if !ok {
		return nil, false
	}
	return w.root, true
}
