package builtin

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"sort"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// The size limits of a pod certificate request (upstream's
// certificates.MaxStubPKCS10RequestSize and MaxCertificateChainSize) and
// the shortest lifetime a request may ask for (MinMaxExpirationSeconds).
const (
	maxStubPKCS10RequestSize = 10 * 1024
	maxCertificateChainSize  = 100 * 1024
	minMaxExpirationSeconds  = 60 * 60
)

// The conditions that end a pod certificate request.
const (
	pcrIssued = "Issued"
	pcrDenied = "Denied"
	pcrFailed = "Failed"
)

// podCertificateRequestRow is certificates.k8s.io/v1's pod certificate
// requests (pkg/registry/certificates/podcertificaterequest): namespaced,
// with a status that a create clears and an update of the object keeps;
// the spec is immutable; /status keeps the spec and resets the metadata
// (ResetObjectMetaForStatus); updates need a resourceVersion; selectable
// by spec.signerName, spec.podName and spec.nodeName (upstream's field
// label conversion has no metadata.namespace: the store's does, a known
// difference). maxExpirationSeconds defaults to a day. kube-apiserver 1.37
// stores them as v1beta1.
func podCertificateRequestRow() *registry.Resource {
	return &registry.Resource{Group: "certificates.k8s.io", Version: "v1", Resource: "podcertificaterequests",
		Kind: "PodCertificateRequest", Namespaced: true, Status: true, RequireResourceVersion: true,
		StorageVersion: certificatesv1beta1.SchemeGroupVersion,
		New:            newFn[certificatesv1.PodCertificateRequest], NewList: newFn[certificatesv1.PodCertificateRequestList],
		NoNamespaceFieldLabel: true,
		Fields: func(o runtime.Object) fields.Set {
			s := o.(*certificatesv1.PodCertificateRequest).Spec
			return fields.Set{"spec.signerName": s.SignerName, "spec.podName": s.PodName, "spec.nodeName": string(s.NodeName)}
		},
		Default: func(o runtime.Object) {
			if s := &o.(*certificatesv1.PodCertificateRequest).Spec; s.MaxExpirationSeconds == nil {
				s.MaxExpirationSeconds = ptr[int32](24 * 60 * 60)
			}
		},
		ValidateCreate: validatePodCertificateRequest,
		ValidateUpdate: func(o, old runtime.Object) field.ErrorList {
			spec, prev := o.(*certificatesv1.PodCertificateRequest).Spec, old.(*certificatesv1.PodCertificateRequest).Spec
			if apiequality.Semantic.DeepEqual(spec, prev) {
				return nil
			}
			return field.ErrorList{field.Invalid(field.NewPath("spec"), internalJSON{pcrSpecToV1beta1(spec)}, apivalidation.FieldImmutableErrorMsg)}
		},
		PrepareForStatusUpdate: resetMetaForStatus,
		ResetFields:            statusResetsMeta,
		ValidateStatusUpdate:   validatePodCertificateRequestStatus,
		Columns:                podCertificateRequestColumns,
		Convert: &registry.Conversion{
			ToStorage: func(o runtime.Object) (runtime.Object, error) {
				r := o.(*certificatesv1.PodCertificateRequest).DeepCopy()
				return &certificatesv1beta1.PodCertificateRequest{
					TypeMeta:   typeMeta(certificatesv1beta1.SchemeGroupVersion.String(), "PodCertificateRequest"),
					ObjectMeta: r.ObjectMeta, Spec: pcrSpecToV1beta1(r.Spec),
					Status: certificatesv1beta1.PodCertificateRequestStatus(r.Status)}, nil
			},
			FromStorage: func(o runtime.Object) (runtime.Object, error) {
				r := o.(*certificatesv1beta1.PodCertificateRequest).DeepCopy()
				s := r.Spec
				return &certificatesv1.PodCertificateRequest{
					TypeMeta:   typeMeta(certificatesv1.SchemeGroupVersion.String(), "PodCertificateRequest"),
					ObjectMeta: r.ObjectMeta,
					Spec: certificatesv1.PodCertificateRequestSpec{SignerName: s.SignerName, PodName: s.PodName, PodUID: s.PodUID,
						ServiceAccountName: s.ServiceAccountName, ServiceAccountUID: s.ServiceAccountUID, NodeName: s.NodeName,
						NodeUID: s.NodeUID, MaxExpirationSeconds: s.MaxExpirationSeconds, StubPKCS10Request: s.StubPKCS10Request,
						UnverifiedUserAnnotations: s.UnverifiedUserAnnotations},
					Status: certificatesv1.PodCertificateRequestStatus(r.Status)}, nil
			},
			NewStored:     newFn[certificatesv1beta1.PodCertificateRequest],
			NewStoredList: newFn[certificatesv1beta1.PodCertificateRequestList],
		},
	}
}

// pcrSpecToV1beta1 is the spec at v1beta1, whose fields are also those of
// upstream's internal type, in its order.
func pcrSpecToV1beta1(s certificatesv1.PodCertificateRequestSpec) certificatesv1beta1.PodCertificateRequestSpec {
	return certificatesv1beta1.PodCertificateRequestSpec{SignerName: s.SignerName, PodName: s.PodName, PodUID: s.PodUID,
		ServiceAccountName: s.ServiceAccountName, ServiceAccountUID: s.ServiceAccountUID, NodeName: s.NodeName,
		NodeUID: s.NodeUID, MaxExpirationSeconds: s.MaxExpirationSeconds, StubPKCS10Request: s.StubPKCS10Request,
		UnverifiedUserAnnotations: s.UnverifiedUserAnnotations}
}

// validatePodCertificateRequest is ValidatePodCertificateRequestCreate
// but for the metadata, which the store checks. At v1 the deprecated
// pkixPublicKey and proofOfPossession do not exist: the request needs a
// stub PKCS#10 request.
func validatePodCertificateRequest(o runtime.Object) field.ErrorList {
	s := o.(*certificatesv1.PodCertificateRequest).Spec
	spec := field.NewPath("spec")
	errs := validateSignerName(spec.Child("signerName"), s.SignerName)
	if s.UnverifiedUserAnnotations != nil {
		p := spec.Child("unverifiedUserAnnotations")
		// Upstream ranges over the map; here the keys are sorted.
		keys := make([]string, 0, len(s.UnverifiedUserAnnotations))
		for k := range s.UnverifiedUserAnnotations {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			errs = append(errs, validation.IsDomainPrefixedKey(p, strings.ToLower(k))...)
		}
		if apivalidation.ValidateAnnotationsSize(s.UnverifiedUserAnnotations) != nil {
			errs = append(errs, field.TooLong(p, "", apivalidation.TotalAnnotationSizeLimitB))
		}
	}
	name := func(child, value string) {
		for _, msg := range apivalidation.NameIsDNSSubdomain(value, false) {
			errs = append(errs, field.Invalid(spec.Child(child), value, msg))
		}
	}
	uid := func(child, value string) {
		if value == "" {
			errs = append(errs, field.Invalid(spec.Child(child), value, "must not be empty"))
		}
		if len(value) > 128 {
			errs = append(errs, field.TooLong(spec.Child(child), value, 128))
		}
	}
	name("podName", s.PodName)
	uid("podUID", string(s.PodUID))
	for _, msg := range apivalidation.ValidateServiceAccountName(s.ServiceAccountName, false) {
		errs = append(errs, field.Invalid(spec.Child("serviceAccountName"), s.ServiceAccountName, msg))
	}
	uid("serviceAccountUID", string(s.ServiceAccountUID))
	name("nodeName", string(s.NodeName))
	uid("nodeUID", string(s.NodeUID))
	exp := spec.Child("maxExpirationSeconds")
	if s.MaxExpirationSeconds == nil {
		return append(errs, field.Required(exp, "must be set"))
	}
	limit := int32(maxMaxExpirationSeconds)
	if host, _, _ := strings.Cut(s.SignerName, "/"); host == "kubernetes.io" || strings.HasSuffix(host, ".kubernetes.io") {
		limit = kubernetesMaxMaxExpirationSeconds
	}
	if m := *s.MaxExpirationSeconds; m < minMaxExpirationSeconds || m > limit {
		errs = append(errs, field.Invalid(exp, s.MaxExpirationSeconds, fmt.Sprintf("must be in the range [%d, %d]", minMaxExpirationSeconds, limit)))
	}
	if len(s.StubPKCS10Request) == 0 {
		return append(errs, field.Invalid(spec, field.OmitValueType{}, "exactly one of (stubPKCS10Request) or (pkixPublicKey, proofOfPossession) must be set"))
	}
	return append(errs, validateStubPKCS10Request(s.StubPKCS10Request)...)
}

// validateStubPKCS10Request is upstream's: a signed PKCS#10 request for
// an Ed25519, ECDSA (P256, P384, P521) or RSA (3072, 4096 bits) key; its
// content is not looked at.
func validateStubPKCS10Request(stub []byte) field.ErrorList {
	p := field.NewPath("spec", "stubPKCS10Request")
	if len(stub) > maxStubPKCS10RequestSize {
		return field.ErrorList{field.TooLong(p, stub, maxStubPKCS10RequestSize)}
	}
	req, err := x509.ParseCertificateRequest(stub)
	if err != nil {
		return field.ErrorList{field.Invalid(p, field.OmitValueType{}, "must be a valid PKCS#10 CSR")}
	}
	switch pub := req.PublicKey.(type) {
	case ed25519.PublicKey:
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() && pub.Curve != elliptic.P384() && pub.Curve != elliptic.P521() {
			return field.ErrorList{field.Invalid(p, "curve "+pub.Curve.Params().Name, "elliptic public keys must use curve P256, P384, or P521")}
		}
	case *rsa.PublicKey:
		if bits := pub.Size() * 8; bits != 3072 && bits != 4096 {
			return field.ErrorList{field.Invalid(p, fmt.Sprintf("%d-bit modulus", bits), "RSA keys must have modulus size 3072 or 4096")}
		}
	default:
		return field.ErrorList{field.Invalid(p, field.OmitValueType{}, "unknown public key type; supported types are Ed25519, ECDSA, and RSA")}
	}
	if err := req.CheckSignature(); err != nil {
		return field.ErrorList{field.Invalid(p, field.OmitValueType{}, "invalid signature")}
	}
	return nil
}

var podCertificateRequestColumns = []registry.Column{
	{Name: "PodName", Type: "string", Description: certificatesv1.PodCertificateRequestSpec{}.SwaggerDoc()["podName"],
		Cell: func(o runtime.Object) any { return o.(*certificatesv1.PodCertificateRequest).Spec.PodName }},
	{Name: "ServiceAccountName", Type: "string", Description: certificatesv1.PodCertificateRequestSpec{}.SwaggerDoc()["serviceAccountName"],
		Cell: func(o runtime.Object) any { return o.(*certificatesv1.PodCertificateRequest).Spec.ServiceAccountName }},
	{Name: "NodeName", Type: "string", Description: certificatesv1.PodCertificateRequestSpec{}.SwaggerDoc()["nodeName"],
		Cell: func(o runtime.Object) any { return string(o.(*certificatesv1.PodCertificateRequest).Spec.NodeName) }},
	{Name: "SignerName", Type: "string", Description: certificatesv1.PodCertificateRequestSpec{}.SwaggerDoc()["signerName"],
		Cell: func(o runtime.Object) any { return o.(*certificatesv1.PodCertificateRequest).Spec.SignerName }},
	{Name: "State", Type: "string", Description: "Is the request Pending, Issued, Denied, or Failed?",
		Cell: func(o runtime.Object) any { return pcrState(o.(*certificatesv1.PodCertificateRequest)) }},
	{Name: "UnverifiedUserAnnotations", Type: "string",
		Description: certificatesv1.PodCertificateRequestSpec{}.SwaggerDoc()["unverifiedUserAnnotations"],
		Cell: func(o runtime.Object) any {
			return labels.FormatLabels(o.(*certificatesv1.PodCertificateRequest).Spec.UnverifiedUserAnnotations)
		}},
}

// pcrState is the printer's State: the last of the Issued, Denied and
// Failed conditions, whatever its status, else Pending.
func pcrState(r *certificatesv1.PodCertificateRequest) string {
	state := "Pending"
	for _, c := range r.Status.Conditions {
		if slices.Contains([]string{pcrIssued, pcrDenied, pcrFailed}, c.Type) {
			state = c.Type
		}
	}
	return state
}
