package server

import (
	"github.com/regis-dev/regis/internal/admission/podsecurity"
	"github.com/regis-dev/regis/internal/registry"
)

// podSecurityAdmission is the admission plugin PodSecurity (the
// pod-security.kubernetes.io namespace labels), a validating plugin
// configured by the PodSecurity entry of --admission-control-config-file.
func podSecurityAdmission(env *admissionEnv) (registry.Admission, error) {
	if !env.o.admissionPluginOn(podsecurity.PluginName) {
		return nil, nil
	}
	return podsecurity.New(podsecurity.Config{Registry: env.reg, ConfigFile: env.o.AdmissionControlConfigFile})
}
