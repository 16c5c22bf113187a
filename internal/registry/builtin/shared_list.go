package builtin

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// sharedObjects lists st's objects in namespace ("" for all) at rv, for
// an admission plugin's reads at every create (priority classes, limit
// ranges, default classes), as upstream's plugins read their informers'
// listers: the watch cache's shared objects where the resource has one,
// with no list or copy made of them (they must not be changed), else
// List's items.
func sharedObjects(ctx context.Context, st *registry.Store, namespace, rv string) ([]runtime.Object, error) {
	opts := &metainternalversion.ListOptions{ResourceVersion: rv}
	if l, ok, err := st.ListObjects(ctx, namespace, opts); ok {
		if err != nil {
			return nil, err
		}
		out := make([]runtime.Object, len(l.Items))
		for i, it := range l.Items {
			out[i] = it.Object()
		}
		return out, nil
	}
	list, err := st.List(ctx, namespace, opts)
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		items[i] = cacheable.Unwrap(it)
	}
	return items, nil
}
