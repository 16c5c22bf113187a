package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/regis-dev/regis/internal/admission"
	"github.com/regis-dev/regis/internal/admission/podsecurity"
	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/registry"
)

// admissionEnv is what the admission plugins are built from.
type admissionEnv struct {
	ctx context.Context // the server's life; goroutines stop when it is done
	o   *Options
	reg *registry.Registry
	// authorizer decides the signer checks (ClusterTrustBundleAttest,
	// pod certificate signing).
	authorizer authz.Authorizer
	wg         *sync.WaitGroup // owns the plugins' goroutines
	log        *slog.Logger
	// podSecurityMetrics are PodSecurity's counters, served on /metrics.
	podSecurityMetrics *podsecurity.Metrics
}

// startAdmission installs the admission chain on every write of reg, in
// kube-apiserver's plugin order (AllOrderedPlugins): the built-in steps,
// then the dynamic ones (mutating policies and webhooks in the mutating
// half, ValidatingAdmissionPolicies and validating webhooks in the
// validating half), then ResourceQuota last. Each plugin is built in a
// file of its own; nil means off (--disable-admission-plugins).
func startAdmission(env *admissionEnv) error {
	var chain registry.Plugins
	for _, build := range []func(*admissionEnv) (registry.Admission, error){
		builtinAdmission,       // LimitRanger, ServiceAccount, Priority, default classes (admission_builtin.go)
		podSecurityAdmission,   // PodSecurity (admission_podsecurity.go)
		dynamicAdmission,       // the four dynamic plugins
		resourceQuotaAdmission, // ResourceQuota (admission_quota.go)
	} {
		p, err := build(env)
		if err != nil {
			return err
		}
		if p != nil {
			chain = append(chain, p)
		}
	}
	if len(chain) > 0 {
		env.reg.SetAdmission(chain)
	}
	return nil
}

// dynamicAdmission is the mutating and validating webhooks and admission
// policies; its configuration is watched by a goroutine of env.wg.
func dynamicAdmission(env *admissionEnv) (registry.Admission, error) {
	if !env.o.admissionPluginOn("ValidatingAdmissionWebhook") { // all four are off (validateAdmissionPlugins)
		return nil, nil
	}
	chain, err := admission.New(admission.Config{Registry: env.reg, Logf: func(format string, args ...any) {
		env.log.Warn(fmt.Sprintf(format, args...))
	}})
	if err != nil {
		return nil, err
	}
	env.wg.Go(func() { _ = chain.Run(env.ctx) })
	return chain, nil
}
