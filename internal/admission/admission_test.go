package admission_test

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
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

// webhookServer is an HTTPS admission webhook on 127.0.0.1 with a CA of
// its own; it records the requests it gets.
type webhookServer struct {
	*httptest.Server
	caPEM []byte
	mu    sync.Mutex
	reqs  []*admissionv1.AdmissionRequest
}

func newWebhookServer(t *testing.T) *webhookServer { return newWebhookServerOn(t, nil) }

// newWebhookServerOn serves on ln (127.0.0.1 when nil).
func newWebhookServerOn(t *testing.T, ln net.Listener) *webhookServer {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "webhook-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"hook.adm.svc"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	w := &webhookServer{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	w.Server = httptest.NewUnstartedServer(http.HandlerFunc(w.serve))
	if ln != nil {
		w.Listener.Close()
		w.Listener = ln
	}
	w.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	w.StartTLS()
	t.Cleanup(w.Close)
	return w
}

func (w *webhookServer) serve(rw http.ResponseWriter, r *http.Request) {
	review := &admissionv1.AdmissionReview{}
	if err := json.NewDecoder(r.Body).Decode(review); err != nil || review.Request == nil {
		http.Error(rw, "bad review", http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.reqs = append(w.reqs, review.Request)
	w.mu.Unlock()
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	switch r.URL.Path {
	case "/mutate":
		var obj struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		_ = json.Unmarshal(review.Request.Object.Raw, &obj)
		patch := `[{"op":"add","path":"/metadata/labels","value":{"admitted":"yes"}}]`
		if obj.Metadata.Labels != nil {
			patch = `[{"op":"add","path":"/metadata/labels/admitted","value":"yes"}]`
		}
		pt := admissionv1.PatchTypeJSONPatch
		resp.Patch, resp.PatchType = []byte(patch), &pt
		resp.Warnings = []string{"mutated by the test"}
	case "/first", "/second":
		// /first copies the label second (or "none") into the label first;
		// /second sets the label second.
		var obj struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		_ = json.Unmarshal(review.Request.Object.Raw, &obj)
		value := "yes"
		if r.URL.Path == "/first" {
			value = obj.Metadata.Labels["second"]
			if value == "" {
				value = "none"
			}
		}
		pt := admissionv1.PatchTypeJSONPatch
		resp.Patch = []byte(`[{"op":"add","path":"/metadata/labels/` + r.URL.Path[1:] + `","value":"` + value + `"}]`)
		resp.PatchType = &pt
	case "/slow":
		time.Sleep(2 * time.Second)
	case "/deny":
		resp.Allowed = false
		resp.Result = &metav1.Status{Code: http.StatusForbidden, Message: "no thanks"}
	}
	review.Response = resp
	review.Request = nil
	_ = json.NewEncoder(rw).Encode(review)
}

func (w *webhookServer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.reqs)
}

func (w *webhookServer) clientConfig(path string) admissionregv1.WebhookClientConfig {
	u := w.URL + path
	return admissionregv1.WebhookClientConfig{URL: &u, CABundle: w.caPEM}
}

// warnings collects the Warning headers a client gets.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) has(sub string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

func start(t *testing.T) (*kubernetes.Clientset, *warnings) {
	t.Helper()
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	cfg := srv.Config()
	warns := &warnings{}
	cfg.WarningHandler = warns
	return kubernetes.NewForConfigOrDie(cfg), warns
}

func namespace(t *testing.T, cs *kubernetes.Clientset, name string, labels map[string]string) {
	t.Helper()
	if _, err := cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// eventually retries f until it returns nil (the configuration reaches the
// chain through a watch).
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	none   = admissionregv1.SideEffectClassNone
	ignore = admissionregv1.Ignore
	fail   = admissionregv1.Fail
)

func rules(resource string, ops ...admissionregv1.OperationType) []admissionregv1.RuleWithOperations {
	return []admissionregv1.RuleWithOperations{{Operations: ops,
		Rule: admissionregv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{resource}}}}
}

func configMap(name string, labels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// hostIP returns a non-loopback IPv4 address of the machine (an
// EndpointSlice may not name a loopback one), or "" when it has none.
func hostIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}
