package builtin

import "github.com/regis-dev/regis/internal/registry"

// groupRows are the rows of the API groups and resources of kube-apiserver
// 1.37's default surface that the main table (Resources) does not hold.
func groupRows() []*registry.Resource {
	return nil
}
