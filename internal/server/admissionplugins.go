package server

import (
	"fmt"
	"slices"
	"strings"
)

// kube-apiserver's admission plugins (AllOrderedPlugins of v1.37), for
// --enable-admission-plugins and --disable-admission-plugins: a name not
// in this list is refused as upstream refuses it.
var allAdmissionPlugins = []string{
	"AlwaysAdmit", "NamespaceAutoProvision", "NamespaceLifecycle", "NamespaceExists",
	"LimitPodHardAntiAffinityTopology", "LimitRanger", "ServiceAccount", "NodeRestriction",
	"TaintNodesByCondition", "AlwaysPullImages", "ImagePolicyWebhook", "PodSecurity",
	"PodNodeSelector", "Priority", "DefaultTolerationSeconds", "PodTolerationRestriction",
	"EventRateLimit", "ExtendedResourceToleration", "DefaultStorageClass",
	"StorageObjectInUseProtection", "PodGroupProtection", "OwnerReferencesPermissionEnforcement",
	"PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning",
	"ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass",
	"DenyServiceExternalIPs", "PodTopologyLabels", "PodGroupWorkloadExists",
	"NodeDeclaredFeatureValidator", "JobValidation", "PodResizeValidator",
	"MutatingAdmissionPolicy", "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy",
	"ValidatingAdmissionWebhook", "ResourceQuota", "AlwaysDeny",
}

// What regis does of upstream's plugins: the dynamic chain, LimitRanger,
// ServiceAccount, Priority, PodSecurity, DefaultStorageClass,
// DefaultIngressClass, ClusterTrustBundleAttest and ResourceQuota can be
// disabled; NamespaceLifecycle always runs. Enabling another plugin, or
// disabling one that always runs, is accepted (kubeadm's flags work
// unchanged) with a warning in the log.
var (
	optionalAdmissionPlugins = []string{"LimitRanger", "ServiceAccount", "Priority", "DefaultStorageClass", "DefaultIngressClass", "PodSecurity",
		"ClusterTrustBundleAttest", "ResourceQuota", "MutatingAdmissionPolicy", "MutatingAdmissionWebhook",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook"}
	alwaysAdmissionPlugins = []string{"NamespaceLifecycle"}
)

// dynamicAdmissionPlugins run as one chain (internal/admission).
var dynamicAdmissionPlugins = []string{"MutatingAdmissionPolicy", "MutatingAdmissionWebhook",
	"ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook"}

// validateAdmissionPlugins checks the two flags with upstream's messages
// (k8s.io/apiserver's AdmissionOptions.Validate), then what regis can do.
func (o *Options) validateAdmissionPlugins() []error {
	var errs []error
	for _, f := range []struct {
		flag  string
		names []string
	}{{"enable-admission-plugins", o.EnableAdmissionPlugins}, {"disable-admission-plugins", o.DisableAdmissionPlugins}} {
		for _, n := range f.names {
			if !slices.Contains(allAdmissionPlugins, n) {
				errs = append(errs, fmt.Errorf("%s plugin %q is unknown", f.flag, n))
			}
		}
	}
	var both []string
	for _, n := range o.EnableAdmissionPlugins {
		if slices.Contains(o.DisableAdmissionPlugins, n) && !slices.Contains(both, n) {
			both = append(both, n)
		}
	}
	if len(both) > 0 {
		slices.Sort(both)
		errs = append(errs, fmt.Errorf("[%s] in enable-admission-plugins and disable-admission-plugins overlapped", strings.Join(both, " ")))
	}
	off := 0
	for _, n := range dynamicAdmissionPlugins {
		if !o.admissionPluginOn(n) {
			off++
		}
	}
	if off != 0 && off != len(dynamicAdmissionPlugins) {
		errs = append(errs, fmt.Errorf("--disable-admission-plugins: regis runs %s as one chain: disable all four or none",
			strings.Join(dynamicAdmissionPlugins, ", ")))
	}
	return errs
}

// admissionPluginOn tells whether the named plugin runs: regis's plugins
// are on unless disabled.
func (o *Options) admissionPluginOn(name string) bool {
	return !slices.Contains(o.DisableAdmissionPlugins, name)
}

// admissionPluginWarnings are what the flags ask that regis does not do.
func (o *Options) admissionPluginWarnings() []string {
	var w []string
	for _, n := range o.EnableAdmissionPlugins {
		if slices.Contains(allAdmissionPlugins, n) && !slices.Contains(optionalAdmissionPlugins, n) && !slices.Contains(alwaysAdmissionPlugins, n) {
			w = append(w, fmt.Sprintf("--enable-admission-plugins %s: regis does not implement this plugin; it does nothing", n))
		}
	}
	for _, n := range o.DisableAdmissionPlugins {
		if slices.Contains(alwaysAdmissionPlugins, n) {
			w = append(w, fmt.Sprintf("--disable-admission-plugins %s: regis always runs this plugin", n))
		}
	}
	return w
}
