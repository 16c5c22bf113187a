package server

import (
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// builtinAdmission is the built-in admission plugins regis runs before
// PodSecurity and the dynamic ones, in upstream's order (AllOrderedPlugins):
// LimitRanger, ServiceAccount, Priority, DefaultStorageClass,
// ClusterTrustBundleAttest and DefaultIngressClass, each unless
// --disable-admission-plugins names it, then the "sign" check of pod
// certificate requests' status, which upstream's strategy makes.
// Upstream orders PodSecurity between ServiceAccount and Priority; it only
// validates, and of the later ones only Priority does, on PriorityClasses,
// which PodSecurity ignores: running it after all of them answers the same.
// They read what they need (LimitRanges, service accounts, priority, storage
// and ingress classes) from env.reg's watch cache.
func builtinAdmission(env *admissionEnv) (registry.Admission, error) {
	var chain registry.Plugins
	for _, p := range []struct {
		name  string
		build func(*registry.Registry) registry.Admission
	}{
		{"LimitRanger", builtin.LimitRangerAdmission},
		{"ServiceAccount", builtin.ServiceAccountAdmission},
		{"Priority", builtin.PriorityAdmission},
		{"DefaultStorageClass", builtin.DefaultStorageClassAdmission},
		{"ClusterTrustBundleAttest", func(*registry.Registry) registry.Admission {
			return builtin.ClusterTrustBundleAttestAdmission(env.authorizer)
		}},
		{"DefaultIngressClass", builtin.DefaultIngressClassAdmission},
	} {
		if env.o.admissionPluginOn(p.name) {
			chain = append(chain, p.build(env.reg))
		}
	}
	// Upstream's pod certificate request status strategy: not a plugin.
	chain = append(chain, builtin.PodCertificateSigningAdmission(env.authorizer))
	if len(chain) == 0 {
		return nil, nil
	}
	return chain, nil
}
