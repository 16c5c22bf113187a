package server

import (
	"github.com/regis-dev/regis/internal/admission/podsecurity"
	"github.com/regis-dev/regis/internal/apiserver"
	"github.com/regis-dev/regis/internal/registry"
)

// podSecurityAdmission is the admission plugin PodSecurity (the
// pod-security.kubernetes.io namespace labels), a validating plugin
// configured by the PodSecurity entry of --admission-control-config-file.
func podSecurityAdmission(env *admissionEnv) (registry.Admission, error) {
	if !env.o.admissionPluginOn(podsecurity.PluginName) {
		// upstream reads the file whichever plugins run: a bad one
		// stops the start
		_, err := podsecurity.ReadAdmissionConfiguration(env.o.AdmissionControlConfigFile)
		return nil, err
	}
	return podsecurity.New(podsecurity.Config{Registry: env.reg, ConfigFile: env.o.AdmissionControlConfigFile,
		Metrics: env.podSecurityMetrics, AuditAnnotations: apiserver.AddAuditAnnotations})
}
