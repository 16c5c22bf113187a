package server

import "github.com/regis-dev/regis/internal/registry"

// resourceQuotaAdmission is the admission plugin ResourceQuota, last in the chain. Not built yet.
func resourceQuotaAdmission(env *admissionEnv) (registry.Admission, error) {
	return nil, nil
}
