package builtin

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// maxTrustBundleSize is upstream's certificates.MaxTrustBundleSize.
const maxTrustBundleSize = 1 << 20

// clusterTrustBundleRow is certificates.k8s.io/v1's cluster trust bundles
// (pkg/registry/certificates/clustertrustbundle): cluster-scoped, no
// status, no generation, updated only with a resourceVersion; selectable
// by spec.signerName. kube-apiserver 1.37 stores them as v1beta1.
//
// Validation is ValidateClusterTrustBundle(Update): the name depends on
// the signer name (<signer with ':' for '/'>:<DNS subdomain>), checked
// here rather than by the store's name rule, which sees only the name;
// the trust bundle is parsed on create and on an update that changes it.
func clusterTrustBundleRow() *registry.Resource {
	return &registry.Resource{Group: "certificates.k8s.io", Version: "v1", Resource: "clustertrustbundles", Kind: "ClusterTrustBundle",
		New: newFn[certificatesv1.ClusterTrustBundle], NewList: newFn[certificatesv1.ClusterTrustBundleList],
		RequireResourceVersion: true, StorageVersion: certificatesv1beta1.SchemeGroupVersion,
		NameValidation: func(string, bool) []string { return nil },
		Fields: func(o runtime.Object) fields.Set {
			return fields.Set{"spec.signerName": o.(*certificatesv1.ClusterTrustBundle).Spec.SignerName}
		},
		Validate: validateClusterTrustBundle,
		ValidateCreate: func(o runtime.Object) field.ErrorList {
			return validateTrustBundle(field.NewPath("spec", "trustBundle"), o.(*certificatesv1.ClusterTrustBundle).Spec.TrustBundle)
		},
		ValidateUpdate: validateClusterTrustBundleUpdate,
		Columns:        clusterTrustBundleColumns,
		Convert: &registry.Conversion{
			ToStorage: func(o runtime.Object) (runtime.Object, error) {
				b := o.(*certificatesv1.ClusterTrustBundle).DeepCopy()
				return &certificatesv1beta1.ClusterTrustBundle{
					TypeMeta:   typeMeta(certificatesv1beta1.SchemeGroupVersion.String(), "ClusterTrustBundle"),
					ObjectMeta: b.ObjectMeta, Spec: certificatesv1beta1.ClusterTrustBundleSpec(b.Spec)}, nil
			},
			FromStorage: func(o runtime.Object) (runtime.Object, error) {
				b := o.(*certificatesv1beta1.ClusterTrustBundle).DeepCopy()
				return &certificatesv1.ClusterTrustBundle{
					TypeMeta:   typeMeta(certificatesv1.SchemeGroupVersion.String(), "ClusterTrustBundle"),
					ObjectMeta: b.ObjectMeta, Spec: certificatesv1.ClusterTrustBundleSpec(b.Spec)}, nil
			},
			NewStored:     newFn[certificatesv1beta1.ClusterTrustBundle],
			NewStoredList: newFn[certificatesv1beta1.ClusterTrustBundleList],
		},
	}
}

// validateClusterTrustBundle is ValidateClusterTrustBundle but for the
// metadata the store checks and the trust bundle: the name's rule, which
// depends on the signer name, and the signer name.
func validateClusterTrustBundle(o runtime.Object) field.ErrorList {
	b := o.(*certificatesv1.ClusterTrustBundle)
	var errs field.ErrorList
	meta := field.NewPath("metadata")
	if g := b.GenerateName; g != "" {
		for _, msg := range clusterTrustBundleName(b.Spec.SignerName, g, true) {
			errs = append(errs, field.Invalid(meta.Child("generateName"), g, msg))
		}
	}
	if b.Name != "" {
		for _, msg := range clusterTrustBundleName(b.Spec.SignerName, b.Name, false) {
			errs = append(errs, field.Invalid(meta.Child("name"), b.Name, msg))
		}
	}
	if b.Spec.SignerName != "" {
		errs = append(errs, validateSignerName(field.NewPath("spec", "signerName"), b.Spec.SignerName)...)
	}
	return errs
}

// validateClusterTrustBundleUpdate is what ValidateClusterTrustBundleUpdate
// adds: the trust bundle when it changed, and the immutable signer name.
func validateClusterTrustBundleUpdate(o, old runtime.Object) field.ErrorList {
	b, prev := o.(*certificatesv1.ClusterTrustBundle), old.(*certificatesv1.ClusterTrustBundle)
	var errs field.ErrorList
	if b.Spec.TrustBundle != prev.Spec.TrustBundle {
		errs = append(errs, validateTrustBundle(field.NewPath("spec", "trustBundle"), b.Spec.TrustBundle)...)
	}
	if b.Spec.SignerName != prev.Spec.SignerName {
		errs = append(errs, field.Invalid(field.NewPath("spec", "signerName"), b.Spec.SignerName, apivalidation.FieldImmutableErrorMsg))
	}
	return errs
}

// validateTrustBundle is upstream's validateTrustBundle: PEM CERTIFICATE
// blocks without headers, each an X.509 CA certificate, at least one,
// none twice.
func validateTrustBundle(path *field.Path, in string) field.ErrorList {
	if len(in) > maxTrustBundleSize {
		return field.ErrorList{field.TooLong(path, "", maxTrustBundleSize)}
	}
	var errs field.ErrorList
	seen := map[string][]int{}
	var order []string
	rest := []byte(in)
	for i := 0; ; i++ {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		var msg string
		if b.Type != "CERTIFICATE" {
			msg = fmt.Sprintf("entry %d has bad block type: %v", i, b.Type)
		} else if len(b.Headers) != 0 {
			msg = fmt.Sprintf("entry %d has PEM block headers", i)
		} else if cert, err := x509.ParseCertificate(b.Bytes); err != nil {
			msg = fmt.Sprintf("entry %d does not parse as X.509", i)
		} else if !cert.IsCA {
			msg = fmt.Sprintf("entry %d does not have the CA bit set", i)
		} else if !cert.BasicConstraintsValid {
			msg = fmt.Sprintf("entry %d has invalid basic constraints", i)
		}
		if msg != "" {
			errs = append(errs, field.Invalid(path, "<value omitted>", msg))
			continue
		}
		if _, ok := seen[string(b.Bytes)]; !ok {
			order = append(order, string(b.Bytes))
		}
		seen[string(b.Bytes)] = append(seen[string(b.Bytes)], i)
	}
	if len(errs) != 0 {
		return errs
	}
	if len(seen) == 0 {
		return field.ErrorList{field.Invalid(path, "<value omitted>", "at least one trust anchor must be provided")}
	}
	// Upstream ranges over a map: with several duplicates its order
	// varies; here they follow their first index.
	for _, k := range order {
		if idx := seen[k]; len(idx) > 1 {
			errs = append(errs, field.Invalid(path, "<value omitted>", fmt.Sprintf("duplicate trust anchor (indices %v)", idx)))
		}
	}
	return errs
}

var clusterTrustBundleColumns = []registry.Column{
	{Name: "SignerName", Type: "string", Description: certificatesv1.ClusterTrustBundleSpec{}.SwaggerDoc()["signerName"],
		Cell: func(o runtime.Object) any { return orNone(o.(*certificatesv1.ClusterTrustBundle).Spec.SignerName) }},
}
