package apiserver

import (
	"fmt"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// nameColumn is the first column of every table.
var nameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name",
	Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}

// metaConversions are the ";as=" targets upstream's get and list
// endpoints negotiate; a PartialObjectMetadata of a list, or a
// PartialObjectMetadataList of one object, is refused once the object is
// read.
var metaConversions = []string{"Table", "PartialObjectMetadata", "PartialObjectMetadataList"}

// conversionNotAcceptable is the 406 of upstream's response transform.
func conversionNotAcceptable(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotAcceptable, Reason: metav1.StatusReasonNotAcceptable, Message: msg,
	}}
}

// internalType is how upstream's messages name the Go type of the
// resource's internal object (or list): "*core.ConfigMapList".
func internalType(res *registry.Resource, list bool) string {
	t := "*" + internalPackage(res.Group) + "." + res.Kind
	if list {
		t += "List"
	}
	return t
}

// convertOutput converts an object or a list to what the client asked for
// with ";as=": a Table (kubectl's columns) or PartialObjectMetadata(List).
func convertOutput(r *http.Request, out output, st *registry.Store, obj runtime.Object, watching bool) (runtime.Object, error) {
	switch out.as {
	case "Table":
		var opts metav1.TableOptions
		if err := decodeParams(r, &opts); err != nil {
			return nil, err
		}
		switch errs := metav1validation.ValidateTableOptions(&opts); len(errs) {
		case 0:
		case 1:
			return nil, badRequest(fmt.Sprintf("Unable to convert to Table as requested: %v", errs[0].Error()))
		default:
			return nil, badRequest(fmt.Sprintf("Unable to convert to Table as requested: %v", errs))
		}
		return toTable(st.Resource(), obj, &opts, out.asVersion)
	case "PartialObjectMetadata", "PartialObjectMetadataList":
		return toPartial(obj, out.asVersion)
	}
	return obj, nil
}

// toTable renders obj (an object or a list) as a Table.
func toTable(res *registry.Resource, obj runtime.Object, opts *metav1.TableOptions, version string) (*metav1.Table, error) {
	if res.Table != nil {
		return customTable(res, obj, opts, version)
	}
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: metav1.GroupName + "/" + version}}
	cols := res.Columns
	if cols == nil {
		cols = []registry.Column{registry.AgeColumn}
	}
	hasName := false
	for _, c := range cols {
		hasName = hasName || c.Name == "Name"
	}
	if !opts.NoHeaders {
		if !hasName {
			t.ColumnDefinitions = append(t.ColumnDefinitions, nameColumn)
		}
		for _, c := range cols {
			t.ColumnDefinitions = append(t.ColumnDefinitions, metav1.TableColumnDefinition{
				Name: c.Name, Type: c.Type, Format: c.Format, Description: c.Description, Priority: c.Priority})
		}
	}
	items := []runtime.Object{obj}
	if meta.IsListType(obj) {
		var err error
		if items, err = meta.ExtractList(obj); err != nil {
			return nil, err
		}
		if l, err := meta.ListAccessor(obj); err == nil {
			t.ResourceVersion = l.GetResourceVersion()
			t.Continue = l.GetContinue()
			t.RemainingItemCount = l.GetRemainingItemCount()
		}
	}
	if res.TableOrder != nil {
		items = slices.Clone(items)
		slices.SortStableFunc(items, func(a, b runtime.Object) int {
			return res.TableOrder(cacheable.Unwrap(a), cacheable.Unwrap(b))
		})
	}
	t.Rows = make([]metav1.TableRow, 0, len(items))
	for _, it := range items {
		it = cacheable.Unwrap(it)
		m := metaAccessor(it)
		row := metav1.TableRow{}
		if !hasName {
			row.Cells = append(row.Cells, m.GetName())
		}
		for _, c := range cols {
			row.Cells = append(row.Cells, c.Cell(it))
		}
		switch opts.IncludeObject {
		case metav1.IncludeObject:
			row.Object.Object = it
		case metav1.IncludeNone:
		default:
			row.Object.Object = partial(storedMeta(res, it, m), version)
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// storedMeta is the metadata of a row's PartialObjectMetadata: the stored
// object's, as upstream's handler takes it from the internal object, so
// that what a conversion adds to a served version (autoscaling/v1's
// annotations) is not in it. The full object (includeObject=Object) is
// the served one.
func storedMeta(res *registry.Resource, it runtime.Object, m metav1.Object) metav1.Object {
	if res.Convert == nil || res.Convert.ToStorage == nil {
		return m
	}
	stored, err := res.Convert.ToStorage(it)
	if err != nil {
		return m
	}
	if sm, err := meta.Accessor(stored); err == nil {
		return sm
	}
	return m
}

func partial(m metav1.Object, version string) *metav1.PartialObjectMetadata {
	om := metav1.ObjectMeta{
		Name: m.GetName(), GenerateName: m.GetGenerateName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
		ResourceVersion: m.GetResourceVersion(), Generation: m.GetGeneration(), CreationTimestamp: m.GetCreationTimestamp(),
		DeletionTimestamp: m.GetDeletionTimestamp(), DeletionGracePeriodSeconds: m.GetDeletionGracePeriodSeconds(),
		Labels: m.GetLabels(), Annotations: m.GetAnnotations(), OwnerReferences: m.GetOwnerReferences(),
		Finalizers: m.GetFinalizers(), ManagedFields: m.GetManagedFields(),
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: metav1.GroupName + "/" + version},
		ObjectMeta: om,
	}
}

// toPartial returns the metadata of an object or of each item of a list.
func toPartial(obj runtime.Object, version string) (runtime.Object, error) {
	if !meta.IsListType(obj) {
		return partial(metaAccessor(cacheable.Unwrap(obj)), version), nil
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, err
	}
	out := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: metav1.GroupName + "/" + version}}
	if l, err := meta.ListAccessor(obj); err == nil {
		out.ResourceVersion, out.Continue, out.RemainingItemCount = l.GetResourceVersion(), l.GetContinue(), l.GetRemainingItemCount()
	}
	for _, it := range items {
		out.Items = append(out.Items, *partial(metaAccessor(cacheable.Unwrap(it)), version))
	}
	return out, nil
}
