package builtin

import (
	"crypto/tls"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The warnings of the core/v1 strategies beyond pods, volumes and nodes:
// upstream's pkg/api/service warnings.go and the endpoints, secret,
// service account and resource quota strategies.

// serviceWarnings is GetWarningsForService, on create and update.
func serviceWarnings(o runtime.Object) []string {
	svc := o.(*corev1.Service)
	spec := &svc.Spec
	var w []string
	if _, ok := svc.Annotations[corev1.DeprecatedAnnotationTopologyAwareHints]; ok {
		w = append(w, fmt.Sprintf("annotation %s is deprecated, please use %s instead",
			corev1.DeprecatedAnnotationTopologyAwareHints, corev1.AnnotationTopologyMode))
	}
	if spec.ClusterIP != corev1.ClusterIPNone && spec.ClusterIP != "" {
		for i, ip := range spec.ClusterIPs {
			w = append(w, ipWarnings(field.NewPath("spec").Child("clusterIPs").Index(i), ip)...)
		}
	}
	headless := spec.Type == corev1.ServiceTypeClusterIP && spec.ClusterIP == corev1.ClusterIPNone
	if headless {
		if spec.LoadBalancerIP != "" {
			w = append(w, "spec.loadBalancerIP is ignored for headless services")
		}
		if len(spec.ExternalIPs) > 0 {
			w = append(w, "spec.externalIPs is ignored for headless services")
		}
		if spec.SessionAffinity != corev1.ServiceAffinityNone {
			w = append(w, "spec.SessionAffinity is ignored for headless services")
		}
	}
	for i, ip := range spec.ExternalIPs {
		w = append(w, ipWarnings(field.NewPath("spec").Child("externalIPs").Index(i), ip)...)
	}
	if len(spec.ExternalIPs) > 0 && !headless && spec.Type != corev1.ServiceTypeExternalName {
		w = append(w, "spec.externalIPs is deprecated and may no longer be implemented in some clusters")
	}
	if spec.LoadBalancerIP != "" {
		w = append(w, ipWarnings(field.NewPath("spec").Child("loadBalancerIP"), spec.LoadBalancerIP)...)
	}
	for i, cidr := range spec.LoadBalancerSourceRanges {
		w = append(w, cidrWarnings(field.NewPath("spec").Child("loadBalancerSourceRanges").Index(i), cidr)...)
	}
	return append(w, serviceTypeWarnings(spec)...)
}

// serviceTypeWarnings warns about fields the service's type ignores and
// about the deprecated PreferClose traffic distribution.
func serviceTypeWarnings(spec *corev1.ServiceSpec) []string {
	var w []string
	if spec.Type == corev1.ServiceTypeExternalName && len(spec.ExternalIPs) > 0 {
		w = append(w, fmt.Sprintf("spec.externalIPs is ignored when spec.type is %q", corev1.ServiceTypeExternalName))
	}
	if spec.Type != corev1.ServiceTypeExternalName && spec.ExternalName != "" {
		w = append(w, fmt.Sprintf("spec.externalName is ignored when spec.type is not %q", corev1.ServiceTypeExternalName))
	}
	if d := spec.TrafficDistribution; d != nil && *d == corev1.ServiceTrafficDistributionPreferClose {
		w = append(w, fmt.Sprintf("spec.trafficDistribution: %q is deprecated; use %q",
			corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone))
	}
	return w
}

// endpointsWarnings warns about non-canonical addresses, unless the
// endpoints controller wrote the object.
func endpointsWarnings(o runtime.Object) []string {
	ep := o.(*corev1.Endpoints)
	if ep.Labels["endpoints.kubernetes.io/managed-by"] == "endpoint-controller" {
		return nil
	}
	var w []string
	for i, s := range ep.Subsets {
		for j, a := range s.Addresses {
			w = append(w, ipWarnings(field.NewPath("subsets").Index(i).Child("addresses").Index(j).Child("ip"), a.IP)...)
		}
		for j, a := range s.NotReadyAddresses {
			w = append(w, ipWarnings(field.NewPath("subsets").Index(i).Child("notReadyAddresses").Index(j).Child("ip"), a.IP)...)
		}
	}
	return w
}

// secretWarnings warns, for a TLS secret, when the key does not match the
// certificate: the text is crypto/tls's error.
func secretWarnings(o runtime.Object) []string {
	s := o.(*corev1.Secret)
	if s.Type != corev1.SecretTypeTLS {
		return nil
	}
	if _, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]); err != nil {
		return []string{err.Error()}
	}
	return nil
}

// enforceMountableSecrets is the service account annotation of the
// ServiceAccount admission plugin that upstream deprecated.
const enforceMountableSecrets = "kubernetes.io/enforce-mountable-secrets"

func serviceAccountWarningsOnCreate(o runtime.Object) []string {
	if _, ok := o.(*corev1.ServiceAccount).Annotations[enforceMountableSecrets]; ok {
		return []string{fmt.Sprintf("metadata.annotations[%s]: deprecated in v1.32+; prefer separate namespaces to isolate access to mounted secrets",
			enforceMountableSecrets)}
	}
	return nil
}

// serviceAccountWarningsOnUpdate warns only when the update sets the
// annotation.
func serviceAccountWarningsOnUpdate(o, old runtime.Object) []string {
	if _, ok := old.(*corev1.ServiceAccount).Annotations[enforceMountableSecrets]; ok {
		return nil
	}
	return serviceAccountWarningsOnCreate(o)
}

// resourceQuotaWarningsOnCreate warns about a request quota above its
// limit quota (the bare cpu and memory names count as requests); upstream
// warns on create only.
func resourceQuotaWarningsOnCreate(o runtime.Object) []string {
	hard := o.(*corev1.ResourceQuota).Spec.Hard
	var w []string
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceStorage, corev1.ResourceEphemeralStorage} {
		reqName := "requests." + name
		req, reqOK := hard[reqName]
		if !reqOK && (name == corev1.ResourceCPU || name == corev1.ResourceMemory) {
			if req, reqOK = hard[name]; reqOK {
				reqName = name
			}
		}
		limName := "limits." + name
		lim, limOK := hard[limName]
		if reqOK && limOK && req.Cmp(lim) > 0 {
			w = append(w, fmt.Sprintf("ResourceQuota %s (%s) should be less than %s (%s)", reqName, req.String(), limName, lim.String()))
		}
	}
	return w
}
