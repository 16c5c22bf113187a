package builtin

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/mail"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validatePodCertificateRequestStatus is upstream's
// ValidatePodCertificateRequestStatusUpdate but for the metadata, which
// the store checks: at most one of the Issued, Denied and Failed
// conditions, True; a request that ended keeps its status; one that is
// denied or fails sets nothing but its conditions; one that is issued
// carries a chain whose leaf certifies the requested key, with its times.
// Without a transition the status cannot change.
func validatePodCertificateRequestStatus(o, old runtime.Object) field.ErrorList {
	r, prev := o.(*certificatesv1.PodCertificateRequest), old.(*certificatesv1.PodCertificateRequest)
	conds := field.NewPath("status", "conditions")
	var errs field.ErrorList
	known := 0
	for i, c := range r.Status.Conditions {
		// Upstream names the index as a child: "conditions.[0]".
		at := conds.Child(fmt.Sprintf("[%d]", i))
		switch c.Type {
		case pcrIssued, pcrDenied, pcrFailed:
			known++
			if known > 1 {
				errs = append(errs, field.Invalid(at.Child("type"), c.Type, `There may be at most one condition with type "Issued", "Denied", or "Failed"`))
			}
			if c.Status != metav1.ConditionTrue {
				errs = append(errs, field.NotSupported(at.Child("status"), c.Status, []metav1.ConditionStatus{metav1.ConditionTrue}))
			}
		default:
			errs = append(errs, field.NotSupported(at.Child("type"), c.Type, []string{pcrIssued, pcrDenied, pcrFailed}))
		}
	}
	errs = append(errs, metav1validation.ValidateConditions(r.Status.Conditions, conds)...)
	if len(errs) > 0 {
		return errs
	}
	status := field.NewPath("status")
	unchanged := func(want certificatesv1.PodCertificateRequestStatus, detail string) field.ErrorList {
		if apiequality.Semantic.DeepEqual(r.Status, want) {
			return nil
		}
		return field.ErrorList{field.Invalid(status, field.OmitValueType{}, detail)}
	}
	switch {
	case pcrIs(prev, pcrIssued) || pcrIs(prev, pcrDenied) || pcrIs(prev, pcrFailed):
		return unchanged(prev.Status, "immutable after PodCertificateRequest is issued, denied, or failed")
	case pcrIs(r, pcrDenied) || pcrIs(r, pcrFailed):
		return unchanged(certificatesv1.PodCertificateRequestStatus{Conditions: r.Status.Conditions},
			"non-condition status fields must be empty when denying or failing the PodCertificateRequest")
	case pcrIs(r, pcrIssued):
		return validatePCRIssued(r, prev, time.Now())
	}
	return unchanged(prev.Status, `status is immutable unless transitioning to "Issued", "Denied", or "Failed"`)
}

// pcrIs reports whether r's condition of type t is True.
func pcrIs(r *certificatesv1.PodCertificateRequest, t string) bool {
	for _, c := range r.Status.Conditions {
		if c.Type == t && c.Status == metav1.ConditionTrue {
			return true
		}
	}
	return false
}

// validatePCRIssued checks an issued request's certificate chain and
// times, as upstream (now is kube-apiserver's clock).
func validatePCRIssued(r, prev *certificatesv1.PodCertificateRequest, now time.Time) field.ErrorList {
	chainPath := field.NewPath("status", "certificateChain")
	notBeforePath := field.NewPath("status", "notBefore")
	notAfterPath := field.NewPath("status", "notAfter")
	refreshPath := field.NewPath("status", "beginRefreshAt")
	st := r.Status
	chain := st.CertificateChain
	invalid := func(p *field.Path, v any, msg string) field.ErrorList {
		return field.ErrorList{field.Invalid(p, v, msg)}
	}
	if len(chain) > maxCertificateChainSize {
		return field.ErrorList{field.TooLong(chainPath, chain, maxCertificateChainSize)}
	}
	leafBlock, rest := pem.Decode([]byte(chain))
	if leafBlock == nil {
		return invalid(chainPath, chain, "issued certificate chain must contain at least one certificate")
	}
	if leafBlock.Type != "CERTIFICATE" {
		return invalid(chainPath, chain, "issued certificate chain must consist entirely of CERTIFICATE PEM blocks")
	}
	leaf, err := x509.ParseCertificate(leafBlock.Bytes)
	if err != nil {
		return invalid(chainPath, chain, "leaf certificate does not parse as valid X.509")
	}
	var errs field.ErrorList
	for _, name := range leaf.DNSNames {
		if name == "" {
			errs = append(errs, field.Invalid(chainPath, name, "leaf certificate should not contain empty DNSName"))
		}
		if strings.Contains(name, "..") {
			errs = append(errs, field.Invalid(chainPath, name, "leaf certificate's DNSName should not contain '..'"))
		}
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
			errs = append(errs, field.Invalid(chainPath, name, "leaf certificate's DNSName should not start or end with '.'"))
		}
	}
	for _, addr := range leaf.EmailAddresses {
		if _, err := mail.ParseAddress(addr); err != nil {
			errs = append(errs, field.Invalid(chainPath, addr, "leaf certificate should not contain invalid EmailAddress"))
		}
	}
	// The requested key: at v1 always the stub request's.
	stub, err := x509.ParseCertificateRequest(prev.Spec.StubPKCS10Request)
	if err != nil {
		return append(errs, field.Invalid(field.NewPath("spec", "stubPKCS10Request"), field.OmitValueType{}, "must be a valid PKCS#10 CSR"))
	}
	if want, ok := stub.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && !want.Equal(leaf.PublicKey) {
		return append(errs, field.Invalid(chainPath, chain, "leaf certificate was not issued to the requested public key"))
	}
	if st.NotBefore == nil {
		errs = append(errs, field.Required(notBeforePath, "must be present and consistent with the issued certificate"))
	}
	if st.NotAfter == nil {
		errs = append(errs, field.Required(notAfterPath, "must be present and consistent with the issued certificate"))
	}
	if st.BeginRefreshAt == nil {
		errs = append(errs, field.Required(refreshPath, "must be present and in the range [notbefore+10min, notafter-10min]"))
	}
	if len(errs) > 0 {
		return errs
	}
	nb, na, refresh := st.NotBefore.Time, st.NotAfter.Time, st.BeginRefreshAt.Time
	switch lifetime := leaf.NotAfter.Sub(leaf.NotBefore); {
	case !nb.Equal(leaf.NotBefore):
		return invalid(notBeforePath, nb, "must be set to the NotBefore time encoded in the leaf certificate")
	case !(nb.After(now.Add(-5*time.Minute)) && nb.Before(now.Add(5*time.Minute))):
		return invalid(notBeforePath, nb, "must be set to within 5 minutes of kube-apiserver's current time")
	case !na.Equal(leaf.NotAfter):
		return invalid(notAfterPath, na, "must be set to the NotAfter time encoded in the leaf certificate")
	case lifetime < time.Hour:
		return invalid(chainPath, lifetime, "leaf certificate lifetime must be >= 1 hour")
	case lifetime > time.Duration(*r.Spec.MaxExpirationSeconds)*time.Second:
		return invalid(chainPath, lifetime, fmt.Sprintf("leaf certificate lifetime must be <= spec.maxExpirationSeconds (%v)", *r.Spec.MaxExpirationSeconds))
	case refresh.Before(nb.Add(10 * time.Minute)):
		return invalid(refreshPath, refresh, "must be at least 10 minutes after status.notBefore")
	case refresh.After(na.Add(-10 * time.Minute)):
		return invalid(refreshPath, refresh, "must be at least 10 minutes before status.notAfter")
	}
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil
		}
		if b.Type != "CERTIFICATE" {
			// Upstream's message, its misspelling included.
			return invalid(chainPath, chain, "issued certificate chain must consist entirely of CERTFICATE PEM blocks")
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return invalid(chainPath, chain, "intermediate certificate does not parse as valid X.509")
		}
	}
}
