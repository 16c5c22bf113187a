package builtin

import (
	"context"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/registry"
)

var (
	clusterTrustBundlesGR    = certificatesv1.Resource("clustertrustbundles")
	podCertificateRequestsGR = certificatesv1.Resource("podcertificaterequests")
)

// ClusterTrustBundleAttestAdmission is upstream's ClusterTrustBundleAttest
// admission plugin: a create or update of a cluster trust bundle naming a
// signer by a user who may not "attest" for it (the attest verb on
// certificates.k8s.io signers, named by the signer or its domain's
// wildcard, "example.com/*") is refused, 403. An update that changes only
// ownerReferences, finalizers or managedFields is not checked, nor are
// writes without a user (the server's own). Validating: it runs after the
// object's validation.
func ClusterTrustBundleAttestAdmission(a authz.Authorizer) registry.Admission {
	return signerCheck{authorizer: a, attest: true}
}

// PodCertificateSigningAdmission is the check upstream's status strategy
// of pod certificate requests makes after validating a /status write: a
// write that changes the status needs the "sign" verb on the request's
// signer (or its domain's wildcard), else 422 with a Forbidden cause on
// spec.signerName. It is part of the strategy upstream, so no flag turns
// it off; it runs first in the validating half of the chain.
func PodCertificateSigningAdmission(a authz.Authorizer) registry.Admission {
	return signerCheck{authorizer: a}
}

type signerCheck struct {
	authorizer authz.Authorizer
	attest     bool
}

func (signerCheck) Admit(context.Context, *registry.Attributes) error { return nil }

func (c signerCheck) Validate(ctx context.Context, a *registry.Attributes) error {
	if a.User == nil || a.Object == nil {
		return nil
	}
	gr := a.Resource.GroupResource()
	switch {
	case c.attest && gr == clusterTrustBundlesGR && a.Subresource == "":
		b, ok := a.Object.(*certificatesv1.ClusterTrustBundle)
		if !ok || b.Spec.SignerName == "" || a.OldObject != nil && authz.OnlyGCFieldsChanged(a.Object, a.OldObject) {
			return nil
		}
		if mayForSigner(ctx, c.authorizer, a.User, "attest", b.Spec.SignerName) {
			return nil
		}
		return apierrors.NewForbidden(clusterTrustBundlesGR, a.Name,
			fmt.Errorf("user not permitted to attest for signerName %q", b.Spec.SignerName))
	case !c.attest && gr == podCertificateRequestsGR && a.Subresource == "status" && a.Operation == registry.OpUpdate:
		r, ok := a.Object.(*certificatesv1.PodCertificateRequest)
		old, okOld := a.OldObject.(*certificatesv1.PodCertificateRequest)
		if !ok || !okOld || apiequality.Semantic.DeepEqual(r.Status, old.Status) {
			return nil
		}
		signer := old.Spec.SignerName
		if mayForSigner(ctx, c.authorizer, a.User, "sign", signer) {
			return nil
		}
		return apierrors.NewInvalid(certificatesv1.SchemeGroupVersion.WithKind("PodCertificateRequest").GroupKind(), a.Name,
			field.ErrorList{field.Forbidden(field.NewPath("spec", "signerName"),
				fmt.Sprintf("User %q is not permitted to \"sign\" for signer %q", a.User.Name, signer))})
	}
	return nil
}

// mayForSigner is upstream's certauthorization.IsAuthorizedForSignerName:
// verb on the signer, else on its domain's wildcard.
func mayForSigner(ctx context.Context, a authz.Authorizer, u *authz.User, verb, signer string) bool {
	if a == nil {
		return false
	}
	domain, _, _ := strings.Cut(signer, "/")
	for _, name := range []string{signer, domain + "/*"} {
		d, _, _ := a.Authorize(ctx, &authz.Attributes{User: u, Verb: verb, Name: name, APIGroup: certificatesv1.GroupName,
			APIVersion: "*", Resource: "signers", ResourceRequest: true})
		if d == authz.DecisionAllow {
			return true
		}
	}
	return false
}
