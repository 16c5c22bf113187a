package server

import "github.com/regis-dev/regis/internal/registry"

// builtinAdmission is the admission plugin LimitRanger, ServiceAccount, Priority, DefaultStorageClass and DefaultIngressClass, in upstream's order. They run as row steps today (Resource.CheckWrite, builtin.PodPriority…); they move here.
func builtinAdmission(env *admissionEnv) (registry.Admission, error) {
	return nil, nil
}
