package apiserver

import (
	"reflect"
	"sync"
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
	// reset is the reset fields (nil: none).
	reset *fieldpath.Set
	conv  *convertor
	// states are the memory of the walks, reused; plans, the plans of
	// their structs.
	states sync.Pool
	plans  structPlans
	fast   fastNodes
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
		// The live object as plain maps: looked up by name and
		// counted without reflection on every create.
		live:    value.NewValueInterface(tv.AsValue().Unstructured()),
		gv:      gvk.GroupVersion(),
		version: version,
		reset:   resetSet(st, ""),
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
	raw, ok := c.fieldsV1(obj)
	if !ok {
		return false
	}
	if raw == nil {
		acc.SetManagedFields(nil)
		return true
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

// fieldsV1 is the FieldsV1 of the fields the comparison of the live
// object with obj adds or modifies, obj seen as ObjectToTyped sees it,
// less the reset fields and stripSet: the bytes ToJSON writes of that
// set (nil for an empty set). False where the walk gives up.
func (c *createTracker) fieldsV1(obj runtime.Object) ([]byte, bool) {
	// An object of the version already is its own conversion.
	versioned := obj
	if _, isU := obj.(*unstructured.Unstructured); isU || obj.GetObjectKind().GroupVersionKind().GroupVersion() != c.gv {
		var err error
		if versioned, err = c.conv.ConvertToVersion(obj, c.gv); err != nil {
			return nil, false
		}
	}
	w := c.walker(c.reset, stripSet)
	defer c.release(w)
	var ok bool
	if u, isU := versioned.(*unstructured.Unstructured); isU {
		ok = w.walk(c.typeRef, c.live, value.NewValueInterface(u.UnstructuredContent()))
	} else if rv := reflect.ValueOf(versioned); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		ok = w.rwalk(c.typeRef, c.live, rv)
	}
	if !ok {
		return nil, false
	}
	return w.fieldsV1()
}

// walker is a walk writing in a pooled state, with these reset fields
// and stripped fields (nil: none).
func (c *createTracker) walker(reset, strip *fieldpath.Set) *createWalker {
	st, _ := c.states.Get().(*emitState)
	if st == nil {
		st = &emitState{}
	}
	st.buf = append(st.buf[:0], '{')
	st.entries = st.entries[:0]
	st.items = st.items[:0]
	if st.alloc == nil {
		st.alloc = value.NewFreelistAllocator()
	}
	st.walker = createWalker{schema: c.schema, alloc: st.alloc, st: st, path: st.path[:0], rootExcl: reset, rootStrip: strip, plans: &c.plans, fast: &c.fast}
	return &st.walker
}

// release returns the walk's state to the pool, unless it grew large.
func (c *createTracker) release(w *createWalker) {
	st := w.st
	st.path = w.path[:0]
	st.walker = createWalker{}
	clear(st.entries[:cap(st.entries)])
	clear(st.path[:cap(st.path)])
	clear(st.items[:cap(st.items)])
	clear(st.keys[:cap(st.keys)])
	clear(st.kv[:cap(st.kv)])
	clear(st.kvs[:cap(st.kvs)])
	st.keys, st.kv, st.idx, st.kvs = st.keys[:0], st.kv[:0], st.idx[:0], st.kvs[:0]
	if cap(st.buf)+cap(st.scratch)+cap(st.pe) > emitStateMax || cap(st.entries)+cap(st.path)+cap(st.items)+cap(st.keys)+cap(st.kv)+cap(st.idx)+cap(st.kvs) > emitStateMax/64 {
		return
	}
	c.states.Put(st)
}
