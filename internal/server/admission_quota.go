package server

import (
	"github.com/regis-dev/regis/internal/quota"
	"github.com/regis-dev/regis/internal/registry"
)

// resourceQuotaAdmission is the admission plugin ResourceQuota, last in
// the chain, and the resourcequota controller that keeps the quotas'
// status current (kube-controller-manager's, which regis runs itself):
// the controller runs even when the plugin is disabled, as
// kube-controller-manager does not depend on the plugin.
func resourceQuotaAdmission(env *admissionEnv) (registry.Admission, error) {
	ctrl := quota.NewController(quota.Config{Registry: env.reg, Log: env.log})
	env.wg.Go(func() { _ = ctrl.Run(env.ctx) })
	if !env.o.admissionPluginOn("ResourceQuota") {
		return nil, nil
	}
	return quota.NewAdmission(ctrl), nil
}
