package apiserver

import "github.com/regis-dev/regis/internal/registry"

// checkServed refuses a verb the resource of st does not serve (a
// deletecollection of namespaces) with kube-apiserver's answer to a
// method it has no route for: 405 MethodNotAllowed, before the request's
// parameters or body are looked at.
func checkServed(st *registry.Store, verb string) error {
	if !st.Resource().Serves(verb) {
		return registry.NewMethodNotAllowed()
	}
	return nil
}
