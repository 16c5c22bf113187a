package server

import (
	"fmt"

	"github.com/regis-dev/regis/internal/admission/podsecurity"
	"github.com/regis-dev/regis/internal/apiserver"
	"github.com/regis-dev/regis/internal/quota"
	"github.com/regis-dev/regis/internal/registry"
)

// resourceQuotaAdmission is the admission plugin ResourceQuota, last in
// the chain, and the resourcequota controller that keeps the quotas'
// status current (kube-controller-manager's, which regis runs itself):
// the controller runs even when the plugin is disabled, as
// kube-controller-manager does not depend on the plugin.
func resourceQuotaAdmission(env *admissionEnv) (registry.Admission, error) {
	ctrl := quota.NewController(quota.Config{Registry: env.reg, Log: env.log, TrackStatus: apiserver.TrackStatusAs})
	env.wg.Go(func() { _ = ctrl.Run(env.ctx) })
	if !env.o.admissionPluginOn("ResourceQuota") {
		return nil, nil
	}
	cfg, err := quotaConfiguration(env.o.AdmissionControlConfigFile)
	if err != nil {
		return nil, err
	}
	return quota.NewAdmission(ctrl, cfg), nil
}

// quotaConfiguration is the ResourceQuota entry of
// --admission-control-config-file (its limitedResources), nil when none.
func quotaConfiguration(file string) (*quota.Configuration, error) {
	conf, err := podsecurity.ReadAdmissionConfiguration(file)
	if err != nil {
		return nil, err
	}
	data, err := conf.ConfigFor("ResourceQuota")
	if err != nil {
		return nil, err
	}
	cfg, err := quota.LoadConfiguration(data)
	if err != nil {
		return nil, fmt.Errorf("couldn't init admission plugin %q: %w", "ResourceQuota", err)
	}
	return cfg, nil
}
