package server

import "github.com/regis-dev/regis/internal/registry"

// podSecurityAdmission is the admission plugin PodSecurity (the pod-security.kubernetes.io namespace labels). Not built yet.
func podSecurityAdmission(env *admissionEnv) (registry.Admission, error) {
	return nil, nil
}
