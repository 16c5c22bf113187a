package builtin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/regis-dev/regis/internal/registry"
)

// TestTrustAndTaintValidation: invalid cluster trust bundles, pod
// certificate requests and device taint rules are refused with
// upstream's messages (the oracle suite compares them with
// kube-apiserver's: cases_certificates_test.go).
func TestTrustAndTaintValidation(t *testing.T) {
	reg := newRegistry(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert := func(ca bool) string {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "c"}, NotBefore: time.Now(),
			NotAfter: time.Now().Add(time.Hour), IsCA: ca, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	ca, leaf := cert(true), cert(false)
	ctb := func(name, signer, bundle string) runtime.Object {
		return &certificatesv1.ClusterTrustBundle{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: certificatesv1.ClusterTrustBundleSpec{SignerName: signer, TrustBundle: bundle}}
	}
	pcr := func(change func(*certificatesv1.PodCertificateRequestSpec)) runtime.Object {
		r := &certificatesv1.PodCertificateRequest{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "default"},
			Spec: certificatesv1.PodCertificateRequestSpec{SignerName: "example.com/s", PodName: "p", PodUID: "u",
				ServiceAccountName: "sa", ServiceAccountUID: "u", NodeName: "n", NodeUID: "u", StubPKCS10Request: []byte("x")}}
		change(&r.Spec)
		return r
	}
	dtr := func(taint resourcev1.DeviceTaint, sel *resourcev1.DeviceTaintSelector) runtime.Object {
		return &resourcev1.DeviceTaintRule{ObjectMeta: metav1.ObjectMeta{Name: "rule"},
			Spec: resourcev1.DeviceTaintRuleSpec{DeviceSelector: sel, Taint: taint}}
	}
	for _, c := range []struct {
		name     string
		group    string
		resource string
		obj      runtime.Object
		want     []string
	}{
		{"trust bundle named without its signer", "certificates.k8s.io", "clustertrustbundles", ctb("b", "example.com/s", ca),
			[]string{`metadata.name: Invalid value: "b": ClusterTrustBundle for signerName example.com/s must be named with prefix example.com:s:`}},
		{"trust bundle with a colon", "certificates.k8s.io", "clustertrustbundles", ctb("a:b", "", ca),
			[]string{`ClusterTrustBundle without signer name must not have ":" in its name`}},
		{"no trust anchor", "certificates.k8s.io", "clustertrustbundles", ctb("b", "", "x"),
			[]string{`spec.trustBundle: Invalid value: "<value omitted>": at least one trust anchor must be provided`}},
		{"not a CA", "certificates.k8s.io", "clustertrustbundles", ctb("b", "", ca+leaf),
			[]string{"entry 1 does not have the CA bit set"}},
		{"duplicate anchors", "certificates.k8s.io", "clustertrustbundles", ctb("b", "", ca+ca+ca),
			[]string{"duplicate trust anchor (indices [0 1 2])"}},
		{"request without stub", "certificates.k8s.io", "podcertificaterequests",
			pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.StubPKCS10Request = nil }),
			[]string{"spec: Invalid value: exactly one of (stubPKCS10Request) or (pkixPublicKey, proofOfPossession) must be set"}},
		{"request with a bad stub", "certificates.k8s.io", "podcertificaterequests",
			pcr(func(*certificatesv1.PodCertificateRequestSpec) {}),
			[]string{"spec.stubPKCS10Request: Invalid value: must be a valid PKCS#10 CSR"}},
		{"request for too long", "certificates.k8s.io", "podcertificaterequests",
			pcr(func(s *certificatesv1.PodCertificateRequestSpec) {
				s.SignerName, s.MaxExpirationSeconds = "kubernetes.io/x", ptr.To[int32](86401)
			}),
			[]string{"spec.maxExpirationSeconds: Invalid value: 86401: must be in the range [3600, 86400]"}},
		{"request without uids", "certificates.k8s.io", "podcertificaterequests",
			pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.PodUID, s.NodeUID = "", "" }),
			[]string{`spec.podUID: Invalid value: "": must not be empty`, `spec.nodeUID: Invalid value: "": must not be empty`}},
		{"taint without key and effect", "resource.k8s.io", "devicetaintrules", dtr(resourcev1.DeviceTaint{}, nil),
			[]string{`spec.taint.key: Invalid value: "": name part must be non-empty`, "spec.taint.effect: Required value"}},
		{"unknown effect", "resource.k8s.io", "devicetaintrules", dtr(resourcev1.DeviceTaint{Key: "k", Effect: "Bogus"}, nil),
			[]string{`spec.taint.effect: Unsupported value: "Bogus": supported values: "NoExecute", "NoSchedule", "None"`}},
		{"bad selector", "resource.k8s.io", "devicetaintrules", dtr(resourcev1.DeviceTaint{Key: "k", Effect: "None"},
			&resourcev1.DeviceTaintSelector{Driver: ptr.To(""), Pool: ptr.To("a//b"), Device: ptr.To("A")}),
			[]string{"spec.deviceSelector.driver: Required value", `spec.deviceSelector.pool: Invalid value: ""`,
				`spec.deviceSelector.device: Invalid value: "A"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ok := reg.Lookup(schema.GroupVersionResource{Group: c.group, Version: "v1", Resource: c.resource})
			if !ok {
				t.Fatalf("%s not served", c.resource)
			}
			_, err := s.Create(t.Context(), c.obj.(metav1.Object).GetNamespace(), c.obj, registry.CreateOptions{DryRun: true})
			if !apierrors.IsInvalid(err) {
				t.Fatalf("create: %v, want 422", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
