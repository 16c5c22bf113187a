package builtin

import (
	"context"
	"slices"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// certificatesRows are certificates.k8s.io/v1's certificate signing
// requests: cluster-scoped, with a status; the spec is fixed at creation,
// its username, uid, groups and extra those of the requesting user.
func certificatesRows() []*registry.Resource {
	return []*registry.Resource{
		{Group: "certificates.k8s.io", Version: "v1", Resource: "certificatesigningrequests", Kind: "CertificateSigningRequest",
			ShortNames: []string{"csr"},
			New:        newFn[certificatesv1.CertificateSigningRequest], NewList: newFn[certificatesv1.CertificateSigningRequestList],
			Status: true, Default: stampCSRConditions, CheckWrite: csrRequestor, PrepareForUpdate: prepareCSRUpdate,
			Fields: func(o runtime.Object) fields.Set {
				return fields.Set{"spec.signerName": o.(*certificatesv1.CertificateSigningRequest).Spec.SignerName}
			},
			Validate: validateCSR, Columns: csrColumns, Subresources: []registry.SubresourceRule{csrApproval}},
	}
}

// stampCSRConditions sets the times a status write leaves out to now, as
// upstream's status strategy does (it keeps a lastTransitionTime of the
// stored condition of the same type and status, which a row's defaulting
// cannot see). Writes to the main resource keep the stored status.
func stampCSRConditions(o runtime.Object) {
	now := metav1.Now().Rfc3339Copy()
	for i := range o.(*certificatesv1.CertificateSigningRequest).Status.Conditions {
		c := &o.(*certificatesv1.CertificateSigningRequest).Status.Conditions[i]
		if c.LastUpdateTime.IsZero() {
			c.LastUpdateTime = now
		}
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = now
		}
	}
}

// csrRequestor sets a new request's username, uid, groups and extra to
// the requesting user's, whatever the client sent (upstream's
// PrepareForCreate; nothing without a user, as the server's own writes).
func csrRequestor(ctx context.Context, o, old runtime.Object) error {
	if old != nil {
		return nil
	}
	csr := o.(*certificatesv1.CertificateSigningRequest)
	csr.Spec.Username, csr.Spec.UID, csr.Spec.Groups, csr.Spec.Extra = "", "", nil, nil
	if u, ok := registry.UserFrom(ctx); ok {
		csr.Spec.Username, csr.Spec.UID = u.Name, u.UID
		csr.Spec.Groups = slices.Clone(u.Groups)
		if len(u.Extra) > 0 {
			csr.Spec.Extra = make(map[string]certificatesv1.ExtraValue, len(u.Extra))
			for k, v := range u.Extra {
				csr.Spec.Extra[k] = slices.Clone(v)
			}
		}
	}
	return nil
}

func prepareCSRUpdate(o, old runtime.Object) {
	o.(*certificatesv1.CertificateSigningRequest).Spec = old.(*certificatesv1.CertificateSigningRequest).Spec
}

func validateCSR(o runtime.Object) field.ErrorList {
	csr := o.(*certificatesv1.CertificateSigningRequest)
	var errs field.ErrorList
	if len(csr.Spec.Usages) == 0 {
		errs = append(errs, field.Required(field.NewPath("spec", "usages"), ""))
	}
	return errs
}

var csrColumns = []registry.Column{
	registry.AgeColumn,
	{Name: "SignerName", Type: "string", Description: certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["signerName"],
		Cell: func(o runtime.Object) any {
			return orNone(o.(*certificatesv1.CertificateSigningRequest).Spec.SignerName)
		}},
	{Name: "Requestor", Type: "string", Description: certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["request"],
		Cell: func(o runtime.Object) any { return o.(*certificatesv1.CertificateSigningRequest).Spec.Username }},
	{Name: "RequestedDuration", Type: "string", Description: certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()["expirationSeconds"],
		Cell: func(o runtime.Object) any {
			if s := o.(*certificatesv1.CertificateSigningRequest).Spec.ExpirationSeconds; s != nil {
				return duration.HumanDuration(time.Duration(*s) * time.Second)
			}
			return "<none>"
		}},
	{Name: "Condition", Type: "string", Description: certificatesv1beta1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"],
		Cell: func(o runtime.Object) any { return csrCondition(o.(*certificatesv1.CertificateSigningRequest)) }},
}

func csrCondition(csr *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	switch {
	case denied:
		status = "Denied"
	case approved:
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(csr.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return status
}
