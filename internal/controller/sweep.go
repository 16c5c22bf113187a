package controller

import (
	"context"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// sweepList is every object of s in namespace ns ("" for all) for a
// sweep that reads them all (the garbage collector, the graceful
// reaper), consistent as a list at RV "", and its revision (0 when
// unknown). Once the resource's watch cache is filled, the items are its
// shared objects, not copies: read-only, and without copying 100,000 pods
// at each sweep. While it fills, the sweep waits rather than reading every
// object from etcd again.
func sweepList(ctx context.Context, s *registry.Store, ns string) ([]runtime.Object, uint64, error) {
	if err := s.WaitCache(ctx); err != nil {
		return nil, 0, err
	}
	shared, ok, err := s.ListObjects(ctx, ns, &metainternalversion.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	if ok {
		items := make([]runtime.Object, len(shared.Items))
		for i, o := range shared.Items {
			items[i] = o
		}
		return items, shared.ResourceVersion, nil
	}
	list, err := s.List(ctx, ns, &metainternalversion.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	var rv uint64
	if lm, err := meta.ListAccessor(list); err == nil {
		rv, _ = strconv.ParseUint(lm.GetResourceVersion(), 10, 64)
	}
	items, err := meta.ExtractList(list)
	return items, rv, err
}
