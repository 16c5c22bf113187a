package apiserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// conversionWebhook is a conversion webhook served by a test over HTTPS
// with a CA of its own: it renames spec.host (v1) to spec.hostname (v2)
// and back, and records the reviews it answers.
type conversionWebhook struct {
	srv      *httptest.Server
	caBundle []byte // PEM

	mu      sync.Mutex
	reviews []int  // objects per review
	fail    string // when set, answers a Failure with this message
	answer  func(*apiextensionsv1.ConversionReview)
}

// newConversionWebhook starts a webhook on 127.0.0.1 with a certificate
// of a new CA.
func newConversionWebhook(t testing.TB) *conversionWebhook {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "webhook-test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"conv.webhooks.svc"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	w := &conversionWebhook{caBundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	w.srv = httptest.NewUnstartedServer(http.HandlerFunc(w.serve))
	w.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	w.srv.StartTLS()
	t.Cleanup(w.srv.Close)
	return w
}

func (w *conversionWebhook) url() string { return w.srv.URL + "/convert" }

func (w *conversionWebhook) setFail(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fail = msg
}

// counts returns the objects of each review answered so far, and forgets
// them.
func (w *conversionWebhook) counts() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.reviews
	w.reviews = nil
	return out
}

func (w *conversionWebhook) serve(rw http.ResponseWriter, r *http.Request) {
	review := &apiextensionsv1.ConversionReview{}
	if err := json.NewDecoder(r.Body).Decode(review); err != nil || review.Request == nil {
		http.Error(rw, "bad review", http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.reviews = append(w.reviews, len(review.Request.Objects))
	fail, answer := w.fail, w.answer
	w.mu.Unlock()
	resp := &apiextensionsv1.ConversionResponse{UID: review.Request.UID, Result: metav1.Status{Status: metav1.StatusSuccess}}
	if fail != "" {
		resp.Result = metav1.Status{Status: metav1.StatusFailure, Message: fail}
	} else {
		for _, raw := range review.Request.Objects {
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(raw.Raw); err != nil {
				http.Error(rw, err.Error(), http.StatusBadRequest)
				return
			}
			renameHost(u, review.Request.DesiredAPIVersion)
			b, _ := u.MarshalJSON()
			resp.ConvertedObjects = append(resp.ConvertedObjects, runtime.RawExtension{Raw: b})
		}
	}
	out := &apiextensionsv1.ConversionReview{TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "ConversionReview"}, Response: resp}
	if answer != nil {
		answer(out)
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(out)
}

// renameHost converts a Conv between v1 (spec.host) and v2
// (spec.hostname).
func renameHost(u *unstructured.Unstructured, to string) {
	from, dest := "hostname", "host"
	if to == "conv.example.com/v2" {
		from, dest = "host", "hostname"
	}
	if v, ok, _ := unstructured.NestedString(u.Object, "spec", from); ok {
		unstructured.RemoveNestedField(u.Object, "spec", from)
		_ = unstructured.SetNestedField(u.Object, v, "spec", dest)
	}
	u.SetAPIVersion(to)
}
