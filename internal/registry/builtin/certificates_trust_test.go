package builtin_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// TestTrustBundlesAndTaintRules: cluster trust bundles, pod certificate
// requests and device taint rules are stored under kube-apiserver's keys
// at its storage versions (certificates.k8s.io/v1beta1,
// resource.k8s.io/v1beta2, as it writes them), read back at v1, and their
// strategies clear the status on create, keep it on update and keep the
// spec on /status.
func TestTrustBundlesAndTaintRules(t *testing.T) {
	reg := newRegistry(t)
	client := shared.Client(t)
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Now(),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	stub, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	cond := metav1.Condition{Type: "Denied", Status: metav1.ConditionTrue, Reason: "Test", LastTransitionTime: metav1.Now().Rfc3339Copy()}
	lookup := func(group, resource string) *registry.Store {
		s, ok := reg.Lookup(schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource})
		if !ok {
			t.Fatalf("%s.%s is not served", resource, group)
		}
		return s
	}
	for _, c := range []struct {
		store     *registry.Store
		obj       runtime.Object
		key       string
		version   string
		setStatus func(runtime.Object)
		setSpec   func(runtime.Object)
		status    func(runtime.Object) any
		spec      func(runtime.Object) any
	}{
		{store: lookup("certificates.k8s.io", "clustertrustbundles"),
			obj: &certificatesv1.ClusterTrustBundle{ObjectMeta: metav1.ObjectMeta{Name: "example.com:signer:b"},
				Spec: certificatesv1.ClusterTrustBundleSpec{SignerName: "example.com/signer", TrustBundle: ca}},
			key: "/clustertrustbundles/example.com:signer:b", version: "certificates.k8s.io/v1beta1",
			spec: func(o runtime.Object) any { return o.(*certificatesv1.ClusterTrustBundle).Spec }},
		{store: lookup("certificates.k8s.io", "podcertificaterequests"),
			obj: &certificatesv1.PodCertificateRequest{ObjectMeta: metav1.ObjectMeta{Name: "pcr", Namespace: "default"},
				Spec: certificatesv1.PodCertificateRequestSpec{SignerName: "example.com/signer", PodName: "p", PodUID: "pu",
					ServiceAccountName: "sa", ServiceAccountUID: "su", NodeName: "n", NodeUID: "nu", StubPKCS10Request: stub},
				Status: certificatesv1.PodCertificateRequestStatus{CertificateChain: "dropped"}},
			key: "/podcertificaterequests/default/pcr", version: "certificates.k8s.io/v1beta1",
			setStatus: func(o runtime.Object) {
				o.(*certificatesv1.PodCertificateRequest).Status.Conditions = []metav1.Condition{cond}
			},
			setSpec: func(o runtime.Object) { o.(*certificatesv1.PodCertificateRequest).Spec.PodName = "other" },
			status:  func(o runtime.Object) any { return o.(*certificatesv1.PodCertificateRequest).Status },
			spec:    func(o runtime.Object) any { return o.(*certificatesv1.PodCertificateRequest).Spec }},
		{store: lookup("resource.k8s.io", "devicetaintrules"),
			obj: &resourcev1.DeviceTaintRule{ObjectMeta: metav1.ObjectMeta{Name: "rule"},
				Spec:   resourcev1.DeviceTaintRuleSpec{Taint: resourcev1.DeviceTaint{Key: "k", Effect: resourcev1.DeviceTaintEffectNoSchedule}},
				Status: resourcev1.DeviceTaintRuleStatus{Conditions: []metav1.Condition{cond}}},
			key: "/devicetaintrules/rule", version: "resource.k8s.io/v1beta2",
			setStatus: func(o runtime.Object) { o.(*resourcev1.DeviceTaintRule).Status.Conditions = []metav1.Condition{cond} },
			setSpec:   func(o runtime.Object) { o.(*resourcev1.DeviceTaintRule).Spec.Taint.Value = "v" },
			status:    func(o runtime.Object) any { return o.(*resourcev1.DeviceTaintRule).Status },
			spec:      func(o runtime.Object) any { return o.(*resourcev1.DeviceTaintRule).Spec }},
	} {
		gr := c.store.Resource().GroupResource()
		t.Run(gr.String(), func(t *testing.T) {
			m := c.obj.(metav1.Object)
			ns, name := m.GetNamespace(), m.GetName()
			created, err := c.store.Create(t.Context(), ns, c.obj.DeepCopyObject(), registry.CreateOptions{})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			resp, err := client.Get(t.Context(), prefix+c.key)
			if err != nil || len(resp.Kvs) != 1 {
				t.Fatalf("get %s: %v", prefix+c.key, err)
			}
			if got := storedAPIVersion(t, resp.Kvs[0].Value); got != c.version {
				t.Errorf("stored as %s, want %s", got, c.version)
			}
			if info, err := builtin.ParseKey(prefix, prefix+c.key); err != nil || info.Resource != gr {
				t.Errorf("ParseKey = %+v, %v", info, err)
			}
			got, err := c.store.Get(t.Context(), ns, name, &metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if v := got.GetObjectKind().GroupVersionKind().Version; v != "v1" {
				t.Errorf("read back at %q", v)
			}
			if c.status == nil {
				return
			}
			if s := c.status(got); !isZero(s) {
				t.Errorf("status after create = %+v, want none", s)
			}
			wantSpec := c.spec(created)
			// /status: the status changes, the spec stays.
			upd := func(change func(runtime.Object)) registry.UpdateFunc {
				return func(_ context.Context, o runtime.Object) (runtime.Object, error) {
					change(o)
					return o, nil
				}
			}
			out, _, err := c.store.Update(t.Context(), ns, name, upd(func(o runtime.Object) { c.setStatus(o); c.setSpec(o) }),
				registry.UpdateOptions{Subresource: registry.StatusSubresource})
			if err != nil {
				t.Fatalf("status update: %v", err)
			}
			if isZero(c.status(out)) || !apiequality.Semantic.DeepEqual(c.spec(out), wantSpec) {
				t.Errorf("after /status: status %+v, spec %+v", c.status(out), c.spec(out))
			}
			// The main resource: the status stays.
			out, _, err = c.store.Update(t.Context(), ns, name, upd(func(o runtime.Object) {
				o.(metav1.Object).SetLabels(map[string]string{"a": "b"})
				reflect.ValueOf(o).Elem().FieldByName("Status").SetZero()
			}), registry.UpdateOptions{})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if isZero(c.status(out)) {
				t.Error("an update of the object cleared the status")
			}
			_, _, err = c.store.Update(t.Context(), ns, name, upd(c.setSpec), registry.UpdateOptions{})
			switch gr.Resource {
			case "podcertificaterequests":
				if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec: Invalid value") {
					t.Errorf("spec update: %v, want field is immutable", err)
				}
			default:
				if err != nil {
					t.Fatalf("spec update: %v", err)
				}
				got, _ := c.store.Get(t.Context(), ns, name, &metav1.GetOptions{})
				if g := got.(metav1.Object).GetGeneration(); g != 2 {
					t.Errorf("generation %d after a spec change, want 2", g)
				}
			}
		})
	}
}

func isZero(v any) bool {
	switch s := v.(type) {
	case certificatesv1.PodCertificateRequestStatus:
		return len(s.Conditions) == 0 && s.CertificateChain == ""
	case resourcev1.DeviceTaintRuleStatus:
		return len(s.Conditions) == 0
	}
	return false
}
