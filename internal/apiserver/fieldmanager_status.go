package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// TrackStatusAs records in obj's managedFields the changes manager makes
// to the status of live, as a client of that name writing through the
// status subresource (Update): upstream's kube-apiserver charging a quota
// from its admission plugin, kube-controller-manager's controllers.
func TrackStatusAs(st *registry.Store, live, obj runtime.Object, manager string) runtime.Object {
	return trackUpdate(st, "status", live, obj, manager)
}
