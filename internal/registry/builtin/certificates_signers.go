package builtin

import (
	"context"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/registry"
)

// GuardSigners makes the cluster trust bundle row of rs refuse a create
// or update of a bundle naming a signer by a user who may not "attest"
// for it, as upstream's ClusterTrustBundleAttest admission plugin: the
// attest verb on certificates.k8s.io signers, named by the signer or its
// domain's wildcard ("example.com/*"). An update that changes only
// ownerReferences, finalizers or managedFields is not checked, nor are
// writes without a user (the server's own).
//
// Upstream's plugin runs after the object's validation, the store's
// CheckWrite before: an invalid object is not checked, and the store's
// validation answers it.
func GuardSigners(rs []*registry.Resource, a authz.Authorizer) {
	check := func(ctx context.Context, obj, old runtime.Object) error {
		u, ok := registry.UserFrom(ctx)
		if !ok {
			return nil
		}
		b := obj.(*certificatesv1.ClusterTrustBundle)
		if b.Spec.SignerName == "" || old != nil && authz.OnlyGCFieldsChanged(obj, old) {
			return nil
		}
		if !validClusterTrustBundle(b, old) || mayForSigner(ctx, a, u, "attest", b.Spec.SignerName) {
			return nil
		}
		return apierrors.NewForbidden(certificatesv1.Resource("clustertrustbundles"), b.Name,
			fmt.Errorf("user not permitted to attest for signerName %q", b.Spec.SignerName))
	}
	for _, r := range rs {
		if r.Group == certificatesv1.GroupName && r.Resource == "clustertrustbundles" {
			r.CheckWrite = check
		}
	}
}

// mayForSigner is upstream's certauthorization.IsAuthorizedForSignerName:
// verb on the signer, else on its domain's wildcard.
func mayForSigner(ctx context.Context, a authz.Authorizer, u *authz.User, verb, signer string) bool {
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

// validClusterTrustBundle tells whether the store's validation will
// accept b (old nil on create).
func validClusterTrustBundle(b *certificatesv1.ClusterTrustBundle, old runtime.Object) bool {
	meta := field.NewPath("metadata")
	errs := apivalidation.ValidateObjectMetaAccessor(b, false, func(string, bool) []string { return nil }, meta)
	errs = append(errs, validateClusterTrustBundle(b)...)
	if old == nil {
		errs = append(errs, validateTrustBundle(field.NewPath("spec", "trustBundle"), b.Spec.TrustBundle)...)
	} else {
		errs = append(errs, apivalidation.ValidateObjectMetaAccessorUpdate(b, old.(metav1.Object), meta)...)
		errs = append(errs, validateClusterTrustBundleUpdate(b, old)...)
	}
	return len(errs) == 0
}
