package registry

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// checkName refuses a body whose name or namespace differs from the URL's,
// with upstream's messages; an empty name or namespace is taken from the
// URL.
func checkName(obj runtime.Object, namespace, name string, namespaced bool) error {
	m := metaOf(obj)
	switch {
	case m.GetName() == "":
		m.SetName(name)
	case m.GetName() != name:
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), name))
	}
	if namespaced {
		switch {
		case m.GetNamespace() == "":
			m.SetNamespace(namespace)
		case m.GetNamespace() != namespace:
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	}
	return nil
}

// finalizersDone reports that nothing but metadata.finalizers holds the
// object back: a namespace also waits for its spec.finalizers.
func (s *Store) finalizersDone(obj runtime.Object) bool {
	if spec := structField(obj, "Spec"); spec.IsValid() && s.isNamespaces() {
		return spec.FieldByName("Finalizers").Len() == 0
	}
	return true
}

func (s *Store) isNamespaces() bool {
	return s.r.GroupResource() == schema.GroupResource{Resource: "namespaces"}
}
