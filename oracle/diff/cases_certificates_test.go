//go:build oracle

package diff

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

// The cluster trust bundles and pod certificate requests of
// certificates.k8s.io/v1, and the device taint rules of resource.k8s.io/v1:
// their strategies, validation, field selectors and tables.

// testCert returns a PEM certificate for pub signed by signer (self-signed
// when parent is nil), valid from notBefore for life.
func testCert(t *testing.T, pub crypto.PublicKey, signer crypto.Signer, parent *x509.Certificate, ca bool, notBefore time.Time, life time.Duration) (string, *x509.Certificate) {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "diff-" + serial.String()},
		NotBefore: notBefore, NotAfter: notBefore.Add(life), BasicConstraintsValid: true, IsCA: ca}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), cert
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// stubRequest returns a PKCS#10 request of key, base64 (its JSON form).
func stubRequest(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestClusterTrustBundles(t *testing.T) {
	caKey := ecKey(t)
	ca, _ := testCert(t, caKey.Public(), caKey, nil, true, time.Now().Add(-time.Hour), 24*time.Hour)
	ca2Key := ecKey(t)
	ca2, _ := testCert(t, ca2Key.Public(), ca2Key, nil, true, time.Now().Add(-time.Hour), 24*time.Hour)
	leafKey := ecKey(t)
	leaf, _ := testCert(t, leafKey.Public(), leafKey, nil, false, time.Now().Add(-time.Hour), 24*time.Hour)
	const path = "/apis/certificates.k8s.io/v1/clustertrustbundles"
	ctb := func(name, signer, bundle string) string {
		return fmt.Sprintf(`{"apiVersion":"certificates.k8s.io/v1","kind":"ClusterTrustBundle","metadata":{"name":%q,"labels":{"diff":"ctb"}},`+
			`"spec":{"signerName":%q,"trustBundle":%s}}`, name, signer, jsonString(bundle))
	}
	runScenario(t, "ctb", []request{
		{Name: "create", Method: post, Path: path, Body: ctb("diff-ctb", "", ca)},
		{Name: "create with signer", Method: post, Path: path, Body: ctb("example.com:signer:diff", "example.com/signer", ca+ca2)},
		{Name: "create dry run", Method: post, Path: path + "?dryRun=All", Body: ctb("diff-ctb-dry", "", ca)},
		{Name: "signer prefix missing", Method: post, Path: path, Body: ctb("diff-wrong", "example.com/signer", ca)},
		{Name: "colon without signer", Method: post, Path: path, Body: ctb("a:b", "", ca)},
		{Name: "bad signer", Method: post, Path: path, Body: ctb("nodomain:x", "nodomain", ca)},
		{Name: "bad signer path", Method: post, Path: path, Body: ctb("example.com:Bad_Path:x", "example.com/Bad_Path", ca)},
		{Name: "no anchor", Method: post, Path: path, Body: ctb("diff-empty", "", "not a pem")},
		{Name: "not a CA", Method: post, Path: path, Body: ctb("diff-leaf", "", leaf)},
		{Name: "duplicate", Method: post, Path: path, Body: ctb("diff-dup", "", ca+ca2+ca)},
		{Name: "bad block type", Method: post, Path: path, Body: ctb("diff-type", "",
			"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"+ca)},
		{Name: "not x509", Method: post, Path: path, Body: ctb("diff-garbage", "", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")},
		{Name: "bad name", Method: post, Path: path, Body: ctb("Diff_Bad", "", ca)},
		{Name: "get", Method: get, Path: path + "/diff-ctb"},
		{Name: "get with signer", Method: get, Path: path + "/example.com:signer:diff"},
		{Name: "list", Method: get, Path: path + "?labelSelector=diff%3Dctb"},
		{Name: "list by signer", Method: get, Path: path + "?fieldSelector=spec.signerName%3Dexample.com%2Fsigner"},
		{Name: "list by empty signer", Method: get, Path: path + "?labelSelector=diff%3Dctb&fieldSelector=spec.signerName%3D"},
		{Name: "list by unknown field", Method: get, Path: path + "?fieldSelector=spec.trustBundle%3Dx"},
		{Name: "table", Method: get, Path: path + "?labelSelector=diff%3Dctb", Accept: asTable},
		{Name: "protobuf", Method: get, Path: path + "/diff-ctb", Accept: "application/vnd.kubernetes.protobuf"},
		{Name: "watch", Method: get, Path: path + "?watch=true&labelSelector=diff%3Dctb&timeoutSeconds=1"},
		{Name: "generated name", Method: post, Path: path, IgnoreBody: true,
			Body: `{"metadata":{"generateName":"diff-gen-"},"spec":{"trustBundle":` + jsonString(ca) + `}}`},
		{Name: "get table", Method: get, Path: path + "/example.com:signer:diff", Accept: asTable},
		{Name: "update without resourceVersion", Method: put, Path: path + "/diff-ctb", Body: ctb("diff-ctb", "", ca2)},
		{Name: "patch bundle", Method: patch, Path: path + "/diff-ctb", ContentType: mergeP,
			Body: `{"spec":{"trustBundle":` + jsonString(ca2) + `}}`},
		{Name: "patch duplicate", Method: patch, Path: path + "/diff-ctb", ContentType: mergeP,
			Body: `{"spec":{"trustBundle":` + jsonString(ca2+ca2) + `}}`},
		{Name: "patch signer", Method: patch, Path: path + "/example.com:signer:diff", ContentType: mergeP,
			Body: `{"spec":{"signerName":"example.com/other"}}`},
		{Name: "patch labels", Method: patch, Path: path + "/example.com:signer:diff", ContentType: mergeP, Body: labelPatch},
		{Name: "status", Method: get, Path: path + "/diff-ctb/status"},
		{Name: "delete", Method: del, Path: path + "/diff-ctb"},
		{Name: "delete with signer", Method: del, Path: path + "/example.com:signer:diff"},
		{Name: "get deleted", Method: get, Path: path + "/diff-ctb"},
	})
}

func TestPodCertificateRequests(t *testing.T) {
	key := ecKey(t)
	stub := stubRequest(t, key)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaStub := stubRequest(t, rsaKey)
	caKey := ecKey(t)
	caPEM, ca := testCert(t, caKey.Public(), caKey, nil, true, time.Now().Add(-time.Hour), 48*time.Hour)
	notBefore := time.Now().Truncate(time.Second)
	leafPEM, _ := testCert(t, key.Public(), caKey, ca, false, notBefore, 2*time.Hour)
	otherKey := ecKey(t)
	otherPEM, _ := testCert(t, otherKey.Public(), caKey, ca, false, notBefore, 2*time.Hour)
	ts := func(d time.Duration) string { return notBefore.Add(d).UTC().Format(time.RFC3339) }
	const path = "/apis/certificates.k8s.io/v1/namespaces/{ns}/podcertificaterequests"
	pcr := func(name, signer, stub string, maxExp string) string {
		return fmt.Sprintf(`{"apiVersion":"certificates.k8s.io/v1","kind":"PodCertificateRequest","metadata":{"name":%q},`+
			`"spec":{"signerName":%q,"podName":"pod-1","podUID":"pod-uid-1","serviceAccountName":"default","serviceAccountUID":"sa-uid-1",`+
			`"nodeName":"node-1","nodeUID":"node-uid-1","maxExpirationSeconds":%s,"stubPKCS10Request":%q,`+
			`"unverifiedUserAnnotations":{"example.com/a":"b"}},`+
			`"status":{"certificateChain":"x"}}`, name, signer, maxExp, stub)
	}
	cond := func(typ, status string) string {
		return fmt.Sprintf(`{"type":%q,"status":%q,"reason":"ByDiff","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}`, typ, status)
	}
	statusPatch := func(s string) string { return `{"status":` + s + `}` }
	runScenario(t, "pcr", []request{
		{Name: "create", Method: post, Path: path, Body: pcr("diff-pcr", "example.com/signer", stub, "86400")},
		{Name: "create second", Method: post, Path: path, Body: pcr("diff-pcr-2", "example.com/signer", stub, "86400")},
		{Name: "create third", Method: post, Path: path, Body: pcr("diff-pcr-3", "example.com/other", stub, "3600")},
		{Name: "empty spec", Method: post, Path: path,
			Body: `{"apiVersion":"certificates.k8s.io/v1","kind":"PodCertificateRequest","metadata":{"name":"empty"},"spec":{"maxExpirationSeconds":3600}}`},
		{Name: "no max expiration", Method: post, Path: path,
			Body: `{"apiVersion":"certificates.k8s.io/v1","kind":"PodCertificateRequest","metadata":{"name":"noexp"},"spec":{"signerName":"example.com/s"}}`},
		{Name: "kubernetes signer too long", Method: post, Path: path, Body: pcr("diff-long", "kubernetes.io/kube-apiserver-client-pod", stub, "90000")},
		{Name: "too short", Method: post, Path: path, Body: pcr("diff-short", "example.com/signer", stub, "60")},
		{Name: "no stub", Method: post, Path: path, Body: pcr("diff-nostub", "example.com/signer", "", "3600")},
		{Name: "bad stub", Method: post, Path: path, Body: pcr("diff-badstub", "example.com/signer", "AAAA", "3600")},
		{Name: "rsa 2048 stub", Method: post, Path: path, Body: pcr("diff-rsa", "example.com/signer", rsaStub, "3600")},
		{Name: "bad names", Method: post, Path: path,
			Body: strings.NewReplacer(`"pod-1"`, `"Pod_1"`, `"node-1"`, `"Node_1"`, `"default"`, `"De fault"`, `"sa-uid-1"`, `""`,
				`"example.com/a"`, `"nodomain"`).Replace(pcr("diff-names", "example.com/signer", stub, "3600"))},
		{Name: "get", Method: get, Path: path + "/diff-pcr"},
		{Name: "list", Method: get, Path: path},
		{Name: "list all namespaces", Method: get, Path: "/apis/certificates.k8s.io/v1/podcertificaterequests?fieldSelector=metadata.namespace%3D{ns}"},
		{Name: "list by signer", Method: get, Path: path + "?fieldSelector=spec.signerName%3Dexample.com%2Fother"},
		{Name: "list by pod", Method: get, Path: path + "?fieldSelector=spec.podName%3Dpod-1,metadata.name!%3Ddiff-pcr"},
		{Name: "list by node", Method: get, Path: path + "?fieldSelector=spec.nodeName%3Dnode-2"},
		{Name: "list by unknown field", Method: get, Path: path + "?fieldSelector=spec.podUID%3Dx"},
		{Name: "table", Method: get, Path: path, Accept: asTable},
		{Name: "get table", Method: get, Path: path + "/diff-pcr", Accept: asTable},
		{Name: "protobuf", Method: get, Path: path + "/diff-pcr", Accept: "application/vnd.kubernetes.protobuf"},
		{Name: "watch", Method: get, Path: path + "?watch=true&timeoutSeconds=1"},
		{Name: "update without resourceVersion", Method: put, Path: path + "/diff-pcr", Body: pcr("diff-pcr", "example.com/signer", stub, "86400")},
		{Name: "patch spec", Method: patch, Path: path + "/diff-pcr", ContentType: mergeP, Body: `{"spec":{"podName":"pod-2"}}`},
		{Name: "patch labels and status", Method: patch, Path: path + "/diff-pcr", ContentType: mergeP,
			Body: `{"metadata":{"labels":{"a":"b"}},"status":{"conditions":[` + cond("Denied", "True") + `]}}`},
		{Name: "status unknown condition", Method: patch, Path: path + "/diff-pcr/status", ContentType: mergeP,
			Body: statusPatch(`{"conditions":[` + cond("Ready", "True") + `]}`)},
		{Name: "status two terminal", Method: patch, Path: path + "/diff-pcr/status", ContentType: mergeP,
			Body: statusPatch(`{"conditions":[` + cond("Denied", "True") + `,` + cond("Failed", "False") + `]}`)},
		{Name: "status bad condition", Method: patch, Path: path + "/diff-pcr/status", ContentType: mergeP,
			Body: statusPatch(`{"conditions":[{"type":"Denied","status":"True"}]}`)},
		{Name: "status chain without issue", Method: patch, Path: path + "/diff-pcr/status", ContentType: mergeP,
			Body: statusPatch(`{"certificateChain":"x"}`)},
		{Name: "deny with chain", Method: patch, Path: path + "/diff-pcr/status", ContentType: mergeP,
			Body: statusPatch(`{"certificateChain":"x","conditions":[` + cond("Denied", "True") + `]}`)},
		{Name: "deny", Method: patch, Path: path + "/diff-pcr/status", ContentType: mergeP,
			Body: `{"metadata":{"labels":{"c":"d"}},"spec":{"podName":"pod-9"},"status":{"conditions":[` + cond("Denied", "True") + `]}}`},
		{Name: "after deny", Method: patch, Path: path + "/diff-pcr/status", ContentType: mergeP,
			Body: statusPatch(`{"conditions":[` + cond("Failed", "True") + `]}`)},
		{Name: "issue without times", Method: patch, Path: path + "/diff-pcr-2/status", ContentType: mergeP,
			Body: statusPatch(`{"certificateChain":` + jsonString(leafPEM) + `,"conditions":[` + cond("Issued", "True") + `]}`)},
		{Name: "issue other key", Method: patch, Path: path + "/diff-pcr-2/status", ContentType: mergeP,
			Body: statusPatch(`{"certificateChain":` + jsonString(otherPEM) + `,"conditions":[` + cond("Issued", "True") + `]}`)},
		{Name: "issue not a chain", Method: patch, Path: path + "/diff-pcr-2/status", ContentType: mergeP,
			Body: statusPatch(`{"certificateChain":"x","conditions":[` + cond("Issued", "True") + `]}`)},
		{Name: "issue refresh too late", Method: patch, Path: path + "/diff-pcr-2/status", ContentType: mergeP,
			Body: statusPatch(fmt.Sprintf(`{"certificateChain":%s,"notBefore":%q,"notAfter":%q,"beginRefreshAt":%q,"conditions":[%s]}`,
				jsonString(leafPEM+caPEM), ts(0), ts(2*time.Hour), ts(2*time.Hour), cond("Issued", "True")))},
		{Name: "issue", Method: patch, Path: path + "/diff-pcr-2/status", ContentType: mergeP,
			Body: statusPatch(fmt.Sprintf(`{"certificateChain":%s,"notBefore":%q,"notAfter":%q,"beginRefreshAt":%q,"conditions":[%s]}`,
				jsonString(leafPEM+caPEM), ts(0), ts(2*time.Hour), ts(time.Hour), cond("Issued", "True")))},
		{Name: "get issued", Method: get, Path: path + "/diff-pcr-2"},
		{Name: "table after", Method: get, Path: path, Accept: asTable},
		{Name: "get status", Method: get, Path: path + "/diff-pcr/status"},
		{Name: "delete", Method: del, Path: path + "/diff-pcr"},
		{Name: "delete collection", Method: del, Path: path},
		{Name: "list after", Method: get, Path: path},
	})
}

func TestDeviceTaintRules(t *testing.T) {
	const path = "/apis/resource.k8s.io/v1/devicetaintrules"
	rule := func(name, selector, taint string) string {
		return fmt.Sprintf(`{"apiVersion":"resource.k8s.io/v1","kind":"DeviceTaintRule","metadata":{"name":%q,"labels":{"diff":"dtr"}},`+
			`"spec":{%s"taint":%s},"status":{"conditions":[{"type":"A","status":"True","reason":"R","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`,
			name, selector, taint)
	}
	sel := `"deviceSelector":{"driver":"dra.example.com","pool":"pool-1","device":"dev-0"},`
	cond := func(typ string) string {
		return fmt.Sprintf(`{"type":%q,"status":"True","reason":"R","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}`, typ)
	}
	many := make([]string, 9)
	for i := range many {
		many[i] = cond(fmt.Sprintf("C%d", i))
	}
	runScenario(t, "dtr", []request{
		{Name: "create", Method: post, Path: path, Body: rule("diff-dtr", sel, `{"key":"example.com/taint","value":"v","effect":"NoSchedule"}`)},
		{Name: "create no selector", Method: post, Path: path,
			Body: rule("diff-dtr-2", "", `{"key":"t","effect":"None","timeAdded":"2026-01-01T00:00:00Z"}`)},
		{Name: "empty taint", Method: post, Path: path, Body: rule("diff-empty", "", `{}`)},
		{Name: "bad effect", Method: post, Path: path, Body: rule("diff-effect", "", `{"key":"k","effect":"Bogus"}`)},
		{Name: "bad key and value", Method: post, Path: path, Body: rule("diff-kv", "", `{"key":"-bad-","value":"a b","effect":"NoExecute"}`)},
		{Name: "bad selector", Method: post, Path: path,
			Body: rule("diff-sel", `"deviceSelector":{"driver":"Bad_Driver","pool":"a//B","device":"UPPER"},`, `{"key":"k","effect":"NoSchedule"}`)},
		{Name: "empty selector names", Method: post, Path: path,
			Body: rule("diff-sel2", `"deviceSelector":{"driver":"","pool":"","device":""},`, `{"key":"k","effect":"NoSchedule"}`)},
		{Name: "get", Method: get, Path: path + "/diff-dtr-2"},
		{Name: "list", Method: get, Path: path + "?labelSelector=diff%3Ddtr"},
		{Name: "list by name", Method: get, Path: path + "?fieldSelector=metadata.name%3Ddiff-dtr-2"},
		{Name: "list by unknown field", Method: get, Path: path + "?fieldSelector=spec.taint.key%3Dt"},
		{Name: "table", Method: get, Path: path + "?labelSelector=diff%3Ddtr", Accept: asTable},
		{Name: "protobuf", Method: get, Path: path + "/diff-dtr", Accept: "application/vnd.kubernetes.protobuf"},
		{Name: "watch", Method: get, Path: path + "?watch=true&labelSelector=diff%3Ddtr&timeoutSeconds=1"},
		{Name: "update without resourceVersion", Method: put, Path: path + "/diff-dtr-2", Body: rule("diff-dtr-2", "", `{"key":"t","effect":"None"}`)},
		{Name: "patch value", Method: patch, Path: path + "/diff-dtr-2", ContentType: mergeP, Body: `{"spec":{"taint":{"value":"w"}}}`},
		{Name: "patch effect", Method: patch, Path: path + "/diff-dtr-2", ContentType: mergeP, Body: `{"spec":{"taint":{"effect":"NoExecute"}}}`},
		{Name: "patch bad effect", Method: patch, Path: path + "/diff-dtr-2", ContentType: mergeP, Body: `{"spec":{"taint":{"effect":"Never"}}}`},
		{Name: "patch labels", Method: patch, Path: path + "/diff-dtr-2", ContentType: mergeP, Body: labelPatch},
		{Name: "patch status through main", Method: patch, Path: path + "/diff-dtr-2", ContentType: mergeP,
			Body: `{"status":{"conditions":[` + cond("B") + `]}}`},
		{Name: "status", Method: patch, Path: path + "/diff-dtr-2/status", ContentType: mergeP,
			Body: `{"metadata":{"labels":{"x":"y"}},"spec":{"taint":{"value":"z"}},"status":{"conditions":[` + cond("B") + `]}}`},
		{Name: "status bad condition", Method: patch, Path: path + "/diff-dtr-2/status", ContentType: mergeP,
			Body: `{"status":{"conditions":[{"type":"bad type","status":"Maybe"}]}}`},
		{Name: "status too many", Method: patch, Path: path + "/diff-dtr-2/status", ContentType: mergeP,
			Body: `{"status":{"conditions":[` + strings.Join(many, ",") + `]}}`},
		{Name: "get status", Method: get, Path: path + "/diff-dtr-2/status"},
		{Name: "delete", Method: del, Path: path + "/diff-dtr"},
		{Name: "delete collection", Method: del, Path: path + "?labelSelector=diff%3Ddtr"},
		{Name: "list after", Method: get, Path: path + "?labelSelector=diff%3Ddtr"},
	})
}

// TestTrustAndTaintApply applies device taint rules and pod certificate
// requests, their status included, and compares the managed fields: the
// main resource does not own the status, /status owns neither the spec
// nor the metadata (GetResetFields).
func TestTrustAndTaintApply(t *testing.T) {
	key := ecKey(t)
	stub := stubRequest(t, key)
	caPEM, _ := testCert(t, key.Public(), key, nil, true, time.Now().Add(-time.Hour), 24*time.Hour)
	const (
		rules = "/apis/resource.k8s.io/v1/devicetaintrules"
		pcrs  = "/apis/certificates.k8s.io/v1/namespaces/{ns}/podcertificaterequests"
		ctbs  = "/apis/certificates.k8s.io/v1/clustertrustbundles"
	)
	cond := `{type: A, status: "True", reason: R, message: m, lastTransitionTime: "2026-01-01T00:00:00Z"}`
	rule := "apiVersion: resource.k8s.io/v1\nkind: DeviceTaintRule\nmetadata: {name: diff-apply, labels: {a: b}}\n" +
		"spec: {taint: {key: k, value: v, effect: NoSchedule, timeAdded: \"2026-01-01T00:00:00Z\"}}\nstatus: {conditions: [" + cond + "]}\n"
	pcr := "apiVersion: certificates.k8s.io/v1\nkind: PodCertificateRequest\nmetadata: {name: diff-apply}\n" +
		"spec: {signerName: example.com/s, podName: p, podUID: u, serviceAccountName: sa, serviceAccountUID: u, nodeName: node-1, nodeUID: u, " +
		"stubPKCS10Request: " + stub + "}\n"
	ctb := "apiVersion: certificates.k8s.io/v1\nkind: ClusterTrustBundle\nmetadata: {name: diff-apply}\n" +
		"spec: {trustBundle: " + jsonString(caPEM) + "}\n"
	deny := "apiVersion: certificates.k8s.io/v1\nkind: PodCertificateRequest\nmetadata: {name: diff-apply, labels: {k: v}}\n" +
		"spec: {podName: other}\nstatus: {conditions: [" + strings.Replace(cond, "type: A", "type: Denied", 1) + "]}\n"
	runScenario(t, "trustapply", []request{
		{Name: "apply rule", Method: patch, Path: rules + "/diff-apply?fieldManager=a", ContentType: applyP, Body: rule, ManagedFields: true},
		{Name: "apply rule status", Method: patch, Path: rules + "/diff-apply/status?fieldManager=s", ContentType: applyP,
			Body: strings.Replace(rule, "value: v", "value: w", 1), ManagedFields: true},
		{Name: "apply rule effect", Method: patch, Path: rules + "/diff-apply?fieldManager=a", ContentType: applyP,
			Body: strings.Replace(rule, "NoSchedule", "NoExecute", 1), ManagedFields: true},
		{Name: "apply pcr", Method: patch, Path: pcrs + "/diff-apply?fieldManager=a", ContentType: applyP, Body: pcr, ManagedFields: true},
		{Name: "apply pcr status", Method: patch, Path: pcrs + "/diff-apply/status?fieldManager=s", ContentType: applyP, Body: deny,
			ManagedFields: true},
		{Name: "apply ctb", Method: patch, Path: ctbs + "/diff-apply?fieldManager=a", ContentType: applyP, Body: ctb, ManagedFields: true},
		{Name: "delete rule", Method: del, Path: rules + "/diff-apply"},
		{Name: "delete ctb", Method: del, Path: ctbs + "/diff-apply"},
	})
}

// TestClusterTrustBundleAttest: a user who may create cluster trust
// bundles needs the attest verb on the signer of a bundle that names one
// (the ClusterTrustBundleAttest admission plugin), on the signer or its
// domain's wildcard.
func TestClusterTrustBundleAttest(t *testing.T) {
	key := ecKey(t)
	ca, _ := testCert(t, key.Public(), key, nil, true, time.Now().Add(-time.Hour), 24*time.Hour)
	const (
		path  = "/apis/certificates.k8s.io/v1/clustertrustbundles"
		roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
		binds = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
	)
	bob := map[string]string{"Impersonate-User": "diff-bob"}
	ctb := func(name, signer string) string {
		return fmt.Sprintf(`{"apiVersion":"certificates.k8s.io/v1","kind":"ClusterTrustBundle","metadata":{"name":%q},`+
			`"spec":{"signerName":%q,"trustBundle":%s}}`, name, signer, jsonString(ca))
	}
	role := func(name, rules string) string {
		return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"` + name + `"},"rules":[` + rules + `]}`
	}
	binding := func(name string) string {
		return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"` + name + `"},` +
			`"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"` + name + `"},` +
			`"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"diff-bob"}]}`
	}
	runScenario(t, "ctbattest", []request{
		{Name: "role", Method: post, Path: roles, Body: role("diff-ctb-writer",
			`{"apiGroups":["certificates.k8s.io"],"resources":["clustertrustbundles"],"verbs":["create","update","patch","get","delete"]}`)},
		{Name: "binding", Method: post, Path: binds, Body: binding("diff-ctb-writer")},
		{Name: "without signer", Method: post, Path: path, Header: bob, Body: ctb("diff-attest-none", "")},
		{Name: "not attested", Method: post, Path: path, Header: bob, Body: ctb("example.com:attest:one", "example.com/attest")},
		{Name: "not attested, invalid", Method: post, Path: path, Header: bob, Body: ctb("wrong", "example.com/attest")},
		{Name: "admin", Method: post, Path: path, Body: ctb("example.com:attest:two", "example.com/attest")},
		{Name: "patch not attested", Method: patch, Path: path + "/example.com:attest:two", Header: bob, ContentType: mergeP, Body: labelPatch},
		{Name: "attest role", Method: post, Path: roles, Body: role("diff-ctb-attest",
			`{"apiGroups":["certificates.k8s.io"],"resources":["signers"],"verbs":["attest"],"resourceNames":["example.com/*"]}`)},
		{Name: "attest binding", Method: post, Path: binds, Body: binding("diff-ctb-attest")},
		{Name: "attested", Method: post, Path: path, Header: bob, Body: ctb("example.com:attest:one", "example.com/attest")},
		{Name: "patch attested", Method: patch, Path: path + "/example.com:attest:two", Header: bob, ContentType: mergeP, Body: labelPatch},
		{Name: "other domain", Method: post, Path: path, Header: bob, Body: ctb("example.org:attest:one", "example.org/attest")},
		{Name: "delete", Method: del, Path: path + "/example.com:attest:one", Header: bob},
		{Name: "delete two", Method: del, Path: path + "/example.com:attest:two"},
		{Name: "delete none", Method: del, Path: path + "/diff-attest-none"},
		{Name: "delete role", Method: del, Path: roles + "/diff-ctb-writer"},
		{Name: "delete binding", Method: del, Path: binds + "/diff-ctb-writer"},
		{Name: "delete attest role", Method: del, Path: roles + "/diff-ctb-attest"},
		{Name: "delete attest binding", Method: del, Path: binds + "/diff-ctb-attest"},
	})
}

// TestPodCertificateSign: a /status write that changes a pod certificate
// request's status needs the sign verb on its signer (upstream's status
// strategy), answered 422 with a Forbidden cause.
func TestPodCertificateSign(t *testing.T) {
	key := ecKey(t)
	const (
		path  = "/apis/certificates.k8s.io/v1/namespaces/{ns}/podcertificaterequests"
		roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
		binds = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
	)
	carol := map[string]string{"Impersonate-User": "diff-carol"}
	role := func(name, rules string) string {
		return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"` + name + `"},"rules":[` + rules + `]}`
	}
	binding := func(name string) string {
		return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"` + name + `"},` +
			`"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"` + name + `"},` +
			`"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"diff-carol"}]}`
	}
	deny := `{"status":{"conditions":[{"type":"Denied","status":"True","reason":"R","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`
	runScenario(t, "pcrsign", []request{
		{Name: "create", Method: post, Path: path, Body: `{"apiVersion":"certificates.k8s.io/v1","kind":"PodCertificateRequest",` +
			`"metadata":{"name":"diff-sign"},"spec":{"signerName":"example.com/sign","podName":"p","podUID":"u","serviceAccountName":"sa",` +
			`"serviceAccountUID":"u","nodeName":"node-1","nodeUID":"u","stubPKCS10Request":"` + stubRequest(t, key) + `"}}`},
		{Name: "role", Method: post, Path: roles, Body: role("diff-pcr-status",
			`{"apiGroups":["certificates.k8s.io"],"resources":["podcertificaterequests","podcertificaterequests/status"],"verbs":["get","update","patch"]}`)},
		{Name: "binding", Method: post, Path: binds, Body: binding("diff-pcr-status")},
		{Name: "status unchanged", Method: patch, Path: path + "/diff-sign/status", Header: carol, ContentType: mergeP,
			Body: `{"metadata":{"labels":{"a":"b"}}}`},
		{Name: "deny not permitted", Method: patch, Path: path + "/diff-sign/status", Header: carol, ContentType: mergeP, Body: deny},
		{Name: "invalid not permitted", Method: patch, Path: path + "/diff-sign/status", Header: carol, ContentType: mergeP,
			Body: `{"status":{"certificateChain":"x"}}`},
		{Name: "sign role", Method: post, Path: roles, Body: role("diff-pcr-sign",
			`{"apiGroups":["certificates.k8s.io"],"resources":["signers"],"verbs":["sign"],"resourceNames":["example.com/*"]}`)},
		{Name: "sign binding", Method: post, Path: binds, Body: binding("diff-pcr-sign")},
		{Name: "deny", Method: patch, Path: path + "/diff-sign/status", Header: carol, ContentType: mergeP, Body: deny},
		{Name: "delete", Method: del, Path: path + "/diff-sign"},
		{Name: "delete role", Method: del, Path: roles + "/diff-pcr-status"},
		{Name: "delete binding", Method: del, Path: binds + "/diff-pcr-status"},
		{Name: "delete sign role", Method: del, Path: roles + "/diff-pcr-sign"},
		{Name: "delete sign binding", Method: del, Path: binds + "/diff-pcr-sign"},
	})
}
