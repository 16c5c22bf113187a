package builtin

import (
	"fmt"
	"slices"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// csrApproval is certificatesigningrequests/approval (kubectl certificate
// approve): an update writes status.conditions only, and may add the
// Approved and Denied conditions (upstream's csrApprovalStrategy).
var csrApproval = registry.SubresourceRule{
	Name: "approval", Verbs: []string{"get", "patch", "update"},
	Apply: func(next, sent runtime.Object) {
		csr, s := next.(*certificatesv1.CertificateSigningRequest), sent.(*certificatesv1.CertificateSigningRequest)
		conds := slices.Clone(s.Status.Conditions)
		populateCSRConditionTimes(conds, csr.Status.Conditions)
		csr.Status.Conditions = conds
	},
	ValidateUpdate: validateCSRApproval,
}

// populateCSRConditionTimes is upstream's populateConditionTimestamps:
// a missing update time is now, a missing transition time that of the
// stored condition of the same type and status, else now.
func populateCSRConditionTimes(conds, stored []certificatesv1.CertificateSigningRequestCondition) {
	now := metav1.Now().Rfc3339Copy()
	for i := range conds {
		c := &conds[i]
		if c.LastUpdateTime.IsZero() {
			c.LastUpdateTime = now
		}
		if !c.LastTransitionTime.IsZero() {
			continue
		}
		c.LastTransitionTime = now
		for _, o := range stored {
			if o.Type == c.Type && o.Status == c.Status && !o.LastTransitionTime.IsZero() {
				c.LastTransitionTime = o.LastTransitionTime
				break
			}
		}
	}
}

// csrTrueOnlyConditions may only be True.
var csrTrueOnlyConditions = []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved,
	certificatesv1.CertificateDenied, certificatesv1.CertificateFailed}

// validateCSRApproval is upstream's ValidateCertificateSigningRequestApprovalUpdate
// for the conditions: types and statuses, Approved and Denied exclusive,
// no duplicate type, and no removal of Approved, Denied or Failed.
func validateCSRApproval(o, old runtime.Object) field.ErrorList {
	csr, prev := o.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	path := field.NewPath("status", "conditions")
	errs := validateCSR(csr)
	seen := map[certificatesv1.RequestConditionType]bool{}
	approved, denied := false, false
	for i, c := range csr.Status.Conditions {
		if c.Type == "" {
			errs = append(errs, field.Required(path.Index(i).Child("type"), ""))
		}
		allowed := []string{string(corev1.ConditionFalse), string(corev1.ConditionTrue), string(corev1.ConditionUnknown)}
		if slices.Contains(csrTrueOnlyConditions, c.Type) {
			allowed = []string{string(corev1.ConditionTrue)}
		}
		switch {
		case c.Status == "":
			errs = append(errs, field.Required(path.Index(i).Child("status"), ""))
		case !slices.Contains(allowed, string(c.Status)):
			errs = append(errs, field.NotSupported(path.Index(i).Child("status"), c.Status, allowed))
		}
		approved = approved || c.Type == certificatesv1.CertificateApproved
		denied = denied || c.Type == certificatesv1.CertificateDenied
		if seen[c.Type] {
			errs = append(errs, field.Duplicate(path.Index(i).Child("type"), c.Type))
		}
		seen[c.Type] = true
	}
	for _, t := range csrTrueOnlyConditions {
		if countConditions(csr, t) < countConditions(prev, t) {
			errs = append(errs, field.Forbidden(path, fmt.Sprintf("updates may not remove a condition of type %q", t)))
		}
	}
	if approved && denied {
		// Upstream's declarative zeroOrOneOf rule, which reports last.
		errs = append(errs, field.Invalid(path, `{conditions[{"type": "Approved"}], conditions[{"type": "Denied"}]}`,
			"must specify at most one of: `conditions[{\"type\": \"Approved\"}]`, `conditions[{\"type\": \"Denied\"}]`"))
	}
	return errs
}

func countConditions(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) int {
	n := 0
	for _, c := range csr.Status.Conditions {
		if c.Type == t {
			n++
		}
	}
	return n
}
