package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/regis-dev/regis/internal/registry"
)

// convertor is the object converter, defaulter and creater of a field
// manager. Objects are in the version a resource serves; one converts to
// another version through the stored version, when the two resources
// store the same kind (autoscaling/v1 and v2 HorizontalPodAutoscalers):
// what upstream's scheme does through the group's internal version.
// Other versions are not registered, and the field manager drops the
// managers it cannot convert.
type convertor struct {
	reg *registry.Registry
	own *registry.Store
}

// storeOf finds the store serving gvk, the own store first.
func (c *convertor) storeOf(gvk schema.GroupVersionKind) *registry.Store {
	if c.own.Resource().GroupVersionKind() == gvk {
		return c.own
	}
	if c.reg == nil {
		return nil
	}
	for _, st := range c.reg.Stores() {
		if st.Resource().GroupVersionKind() == gvk && st.Resource().Convert != nil {
			return st
		}
	}
	for _, st := range c.reg.Stores() {
		if st.Resource().GroupVersionKind() == gvk {
			return st
		}
	}
	return nil
}

// storedKind is the kind a store keeps in etcd.
func storedKind(st *registry.Store) schema.GroupVersionKind {
	conv := st.Resource().Convert
	if conv == nil {
		return st.Resource().GroupVersionKind()
	}
	kinds, _, err := clientscheme.Scheme.ObjectKinds(conv.NewStored())
	if err != nil || len(kinds) == 0 {
		return st.Resource().GroupVersionKind()
	}
	return kinds[0]
}

// storeServing finds a store serving a kind of gv stored as stored.
func (c *convertor) storeServing(gv schema.GroupVersion, stored schema.GroupVersionKind) *registry.Store {
	stores := []*registry.Store{c.own}
	if c.reg != nil {
		stores = append(stores, c.reg.Stores()...)
	}
	for _, st := range stores {
		if st.Resource().GroupVersion() == gv && storedKind(st) == stored {
			return st
		}
	}
	return nil
}

// New implements runtime.ObjectCreater.
func (c *convertor) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	if st := c.storeOf(gvk); st != nil {
		obj := st.New()
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		return obj, nil
	}
	return clientscheme.Scheme.New(gvk)
}

// Default implements runtime.ObjectDefaulter with the row's defaulting.
func (c *convertor) Default(obj runtime.Object) {
	if st := c.storeOf(obj.GetObjectKind().GroupVersionKind()); st != nil && st.Resource().Default != nil {
		st.Resource().Default(obj)
	}
}

// Convert implements runtime.ObjectConvertor; the field manager does not
// use it.
func (c *convertor) Convert(in, out, _ any) error {
	return fmt.Errorf("convert %T to %T: not supported", in, out)
}

// ConvertFieldLabel implements runtime.ObjectConvertor.
func (c *convertor) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

// ConvertToVersion implements runtime.ObjectConvertor: an unstructured
// object becomes typed, an object of another version is converted
// through the stored version.
func (c *convertor) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	gvk := in.GetObjectKind().GroupVersionKind()
	if gvk.Empty() {
		gvk = c.own.Resource().GroupVersionKind()
	}
	if u, ok := in.(*unstructured.Unstructured); ok {
		typed, err := c.New(gvk)
		if err != nil {
			return nil, err
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
			return nil, err
		}
		typed.GetObjectKind().SetGroupVersionKind(gvk)
		in = typed
	}
	// A group-version takes only kinds of its own group: as upstream's,
	// whose hub is the internal version of the entry's group, managers
	// recorded through another group (core v1 Events written through
	// events.k8s.io) cannot be converted and are dropped.
	want, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{gvk})
	if !ok {
		return nil, runtime.NewNotRegisteredGVKErrForTarget("regis", gvk, target)
	}
	if want.GroupVersion() == gvk.GroupVersion() {
		in.GetObjectKind().SetGroupVersionKind(gvk)
		return in, nil
	}
	return c.viaStorage(in, gvk, want.GroupVersion(), target)
}

// viaStorage converts in to the store's stored kind, then to the kind of
// gv stored as that kind.
func (c *convertor) viaStorage(in runtime.Object, gvk schema.GroupVersionKind, gv schema.GroupVersion, target runtime.GroupVersioner) (runtime.Object, error) {
	from := c.storeOf(gvk)
	if from == nil {
		return nil, runtime.NewNotRegisteredGVKErrForTarget("regis", gvk, target)
	}
	stored := storedKind(from)
	to := c.storeServing(gv, stored)
	if to == nil {
		return nil, runtime.NewNotRegisteredGVKErrForTarget("regis", gvk, target)
	}
	obj := in
	var err error
	if conv := from.Resource().Convert; conv != nil {
		if obj, err = conv.ToStorage(obj); err != nil {
			return nil, err
		}
	}
	if conv := to.Resource().Convert; conv != nil {
		if obj, err = conv.FromStorage(obj); err != nil {
			return nil, err
		}
	}
	obj.GetObjectKind().SetGroupVersionKind(to.Resource().GroupVersionKind())
	return obj, nil
}

var _ runtime.ObjectConvertor = (*convertor)(nil)
