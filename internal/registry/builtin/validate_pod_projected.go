package builtin

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Projected volumes, as upstream's validateProjectedVolumeSource and
// validateProjectionSources check them.

// projectedPaths collects the paths of a projected volume's sources: a
// path used twice is refused at the volume's path.
type projectedPaths struct {
	seen sets.Set[string]
	at   *field.Path
}

func (pp *projectedPaths) add(path string, value any) field.ErrorList {
	if pp.seen.Has(path) {
		return field.ErrorList{field.Invalid(pp.at, value, "conflicting duplicate paths")}
	}
	pp.seen.Insert(path)
	return nil
}

func validateProjected(pv *corev1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	errs := validateFileMode(pv.DefaultMode, p.Child("defaultMode"))
	paths := &projectedPaths{seen: sets.New[string](), at: p}
	for i := range pv.Sources {
		errs = append(errs, validateProjection(&pv.Sources[i], p, p.Child("sources").Index(i), paths)...)
	}
	return errs
}

// validateProjection checks one source; p is the volume's path, as
// upstream puts some of the errors there.
func validateProjection(src *corev1.VolumeProjection, p, sp *field.Path, paths *projectedPaths) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if s := src.Secret; s != nil {
		n++
		errs = append(errs, validateProjectedItems(sp.Child("secret"), s.Name, s.Items, paths)...)
	}
	if c := src.ConfigMap; c != nil {
		n++
		errs = append(errs, validateProjectedItems(sp.Child("configMap"), c.Name, c.Items, paths)...)
	}
	if d := src.DownwardAPI; d != nil {
		n++
		errs = append(errs, validateDownwardAPIFiles(nil, d.Items, sp.Child("downwardAPI"), paths)...)
	}
	if t := src.ServiceAccountToken; t != nil {
		n++
		errs = append(errs, validateTokenProjection(t, p, sp.Child("serviceAccountToken"))...)
	}
	if b := src.ClusterTrustBundle; b != nil {
		n++
		errs = append(errs, validateTrustBundleProjection(b, sp.Child("clusterTrustBundle"), paths)...)
	}
	if c := src.PodCertificate; c != nil {
		n++
		errs = append(errs, validatePodCertificateProjection(c, sp.Child("podCertificate"), paths)...)
	}
	if n > 1 {
		errs = append(errs, field.Forbidden(sp, "may not specify more than 1 volume type per source"))
	}
	return errs
}

// validateProjectedItems checks a projected secret or config map.
func validateProjectedItems(p *field.Path, name string, items []corev1.KeyToPath, paths *projectedPaths) field.ErrorList {
	errs := requireFields(p, "name", name != "")
	for i := range items {
		errs = append(errs, validateKeyToPath(&items[i], p.Child("items").Index(i))...)
		if items[i].Path != "" {
			errs = append(errs, paths.add(items[i].Path, name)...)
		}
	}
	return errs
}

// validateTokenProjection checks a service account token; its path's
// errors are at the volume's path, as upstream's.
func validateTokenProjection(t *corev1.ServiceAccountTokenProjection, vp, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch exp := t.ExpirationSeconds; {
	case exp == nil:
		errs = append(errs, field.Required(p.Child("expirationSeconds"), ""))
	default:
		if *exp < 10*60 {
			errs = append(errs, field.Invalid(p.Child("expirationSeconds"), *exp, "may not specify a duration less than 10 minutes"))
		}
		if *exp > 1<<32 {
			errs = append(errs, field.Invalid(p.Child("expirationSeconds"), *exp, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	if t.Path == "" {
		return append(errs, field.Required(vp.Child("path"), ""))
	}
	return append(errs, validateLocalNonReservedPath(t.Path, vp.Child("path"))...)
}

func validateTrustBundleProjection(b *corev1.ClusterTrustBundleProjection, p *field.Path, paths *projectedPaths) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Name != nil && b.SignerName != nil:
		errs = append(errs, field.Invalid(p, internalJSON{b}, "only one of name and signerName may be used"))
	case b.Name != nil:
		name := *b.Name
		if name == "" {
			errs = append(errs, field.Required(p.Child("name"), "must be a valid object name"))
		}
		signer := ""
		if i := strings.LastIndex(name, ":"); i >= 0 {
			signer = strings.ReplaceAll(name[:i], ":", "/")
		}
		for _, msg := range clusterTrustBundleName(signer, name, false) {
			errs = append(errs, field.Invalid(p.Child("name"), name, "not a valid clustertrustbundlename: "+msg))
		}
		if b.LabelSelector != nil {
			errs = append(errs, field.Invalid(p.Child("labelSelector"), b.LabelSelector, "labelSelector must be unset if name is specified"))
		}
	case b.SignerName != nil:
		if *b.SignerName == "" {
			errs = append(errs, field.Required(p.Child("signerName"), "must be a valid signer name"))
		}
		errs = append(errs, validateSignerName(p.Child("signerName"), *b.SignerName)...)
		errs = append(errs, metav1validation.ValidateLabelSelector(b.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, p.Child("labelSelector"))...)
	default:
		errs = append(errs, field.Required(p, "either name or signerName must be specified"))
	}
	if b.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	}
	errs = append(errs, validateLocalNonReservedPath(b.Path, p.Child("path"))...)
	return append(errs, paths.add(b.Path, b.Path)...)
}

// clusterTrustBundleName is upstream's ValidateClusterTrustBundleName
// (prefix: name is a generateName).
func clusterTrustBundleName(signer, name string, prefix bool) []string {
	if signer == "" {
		if strings.Contains(name, ":") {
			return []string{`ClusterTrustBundle without signer name must not have ":" in its name`}
		}
		return apivalidation.NameIsDNSSubdomain(name, prefix)
	}
	want := strings.ReplaceAll(signer, "/", ":") + ":"
	if !strings.HasPrefix(name, want) {
		return []string{fmt.Sprintf("ClusterTrustBundle for signerName %s must be named with prefix %s", signer, want)}
	}
	return apivalidation.NameIsDNSSubdomain(strings.TrimPrefix(name, want), prefix)
}

// The limits of a pod certificate's lifetime (upstream's
// certificates.MaxMaxExpirationSeconds and its Kubernetes signers' one).
const (
	maxMaxExpirationSeconds           = 91 * 24 * 60 * 60
	kubernetesMaxMaxExpirationSeconds = 24 * 60 * 60
)

var podCertificateKeyTypes = []string{"RSA3072", "RSA4096", "ECDSAP256", "ECDSAP384", "ECDSAP521", "ED25519"}

func validatePodCertificateProjection(c *corev1.PodCertificateProjection, p *field.Path, paths *projectedPaths) field.ErrorList {
	errs := validateSignerName(p.Child("signerName"), c.SignerName)
	if c.UserAnnotations != nil {
		for k := range c.UserAnnotations {
			errs = append(errs, validation.IsDomainPrefixedKey(p.Child("userAnnotations"), strings.ToLower(k))...)
		}
		if apivalidation.ValidateAnnotationsSize(c.UserAnnotations) != nil {
			errs = append(errs, field.TooLong(p.Child("userAnnotations"), "", apivalidation.TotalAnnotationSizeLimitB))
		}
	}
	if !sets.New(podCertificateKeyTypes...).Has(string(c.KeyType)) {
		errs = append(errs, field.NotSupported(p.Child("keyType"), c.KeyType, podCertificateKeyTypes))
	}
	if m := c.MaxExpirationSeconds; m != nil {
		if *m < 3600 {
			errs = append(errs, field.Invalid(p.Child("maxExpirationSeconds"), *m, "if provided, maxExpirationSeconds must be >= 3600"))
		}
		limit := maxMaxExpirationSeconds
		if host, _, _ := strings.Cut(c.SignerName, "/"); host == "kubernetes.io" || strings.HasSuffix(host, ".kubernetes.io") {
			limit = kubernetesMaxMaxExpirationSeconds
		}
		if *m > int32(limit) {
			errs = append(errs, field.Invalid(p.Child("maxExpirationSeconds"), *m, fmt.Sprintf("if provided, maxExpirationSeconds must be <= %d", limit)))
		}
	}
	n := 0
	for _, f := range []struct{ name, path string }{
		{"credentialBundlePath", c.CredentialBundlePath}, {"keyPath", c.KeyPath}, {"certificateChainPath", c.CertificateChainPath},
	} {
		if f.path == "" {
			continue
		}
		n++
		errs = append(errs, validateLocalNonReservedPath(f.path, p.Child(f.name))...)
		errs = append(errs, paths.add(f.path, f.path)...)
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "specify at least one of credentialBundlePath, keyPath, and certificateChainPath"))
	}
	return errs
}

// validateSignerName is upstream's ValidateSignerName: a domain of two or
// more labels, a slash, and dot-separated subdomains.
func validateSignerName(p *field.Path, signer string) field.ErrorList {
	if signer == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	segments := strings.Split(signer, "/")
	if len(segments) != 2 {
		return field.ErrorList{field.Invalid(p, signer, "must be a fully qualified domain and path of the form 'example.com/signer-name'")}
	}
	var errs field.ErrorList
	if len(segments[0]) > validation.DNS1123SubdomainMaxLength {
		errs = append(errs, field.TooLong(p, "", validation.DNS1123SubdomainMaxLength))
	}
	domain := strings.Split(segments[0], ".")
	errs = append(errs, signerLabelErrors(p, segments[0], domain, registry.IsDNS1123Label)...)
	if len(domain) < 2 {
		errs = append(errs, field.Invalid(p, segments[0], "should be a domain with at least two segments separated by dots"))
	}
	errs = append(errs, signerLabelErrors(p, segments[1], strings.Split(segments[1], "."), registry.IsDNS1123Subdomain)...)
	maxPath := validation.DNS1123SubdomainMaxLength + validation.DNS1123LabelMaxLength + 1
	if maxLen := validation.DNS1123SubdomainMaxLength + maxPath + 1; len(signer) > maxLen {
		errs = append(errs, field.TooLong(p, "", maxLen))
	}
	return errs
}

// signerLabelErrors reports the first label of a signer name's segment
// that check refuses.
func signerLabelErrors(p *field.Path, segment string, labels []string, check func(string) []string) field.ErrorList {
	for _, l := range labels {
		if msgs := check(l); len(msgs) > 0 {
			var errs field.ErrorList
			for _, m := range msgs {
				errs = append(errs, field.Invalid(p, segment, fmt.Sprintf("validating label %q: %s", l, m)))
			}
			return errs
		}
	}
	return nil
}
