//go:build oracle

package diff

import (
	"net/http"
	"strings"
	"testing"
)

// TestCSRApproval approves and denies certificate signing requests
// through their approval subresource, as kubectl certificate does.
func TestCSRApproval(t *testing.T) {
	const csr = "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: NAME}\n" +
		"spec: {request: " + csrRequest + ", signerName: example.com/signer, usages: [digital signature]}"
	approve := `{"status":{"conditions":[{"type":"Approved","status":"True","reason":"ByDiff","message":"ok"}]}}`
	path := "/apis/certificates.k8s.io/v1/certificatesigningrequests/"
	runScenario(t, "approval", []request{
		{Name: "create", Method: post, Path: "/apis/certificates.k8s.io/v1/certificatesigningrequests",
			Body: strings.Replace(csr, "NAME", "diff-approval", 1)},
		{Name: "get approval", Method: get, Path: path + "diff-approval/approval"},
		{Name: "approve", Method: http.MethodPatch, Path: path + "diff-approval/approval", ContentType: mergeP, Body: approve},
		{Name: "approve and deny", Method: http.MethodPatch, Path: path + "diff-approval/approval", ContentType: mergeP,
			Body: `{"status":{"conditions":[{"type":"Approved","status":"True"},{"type":"Denied","status":"True"}]}}`},
		{Name: "remove approval", Method: http.MethodPatch, Path: path + "diff-approval/approval", ContentType: mergeP,
			Body: `{"status":{"conditions":[]}}`},
		{Name: "approved false", Method: http.MethodPatch, Path: path + "diff-approval/approval", ContentType: mergeP,
			Body: `{"status":{"conditions":[{"type":"Approved","status":"False"}]}}`},
		{Name: "spec ignored", Method: http.MethodPatch, Path: path + "diff-approval/approval", ContentType: mergeP,
			Body: `{"spec":{"signerName":"example.com/other"}}`},
		{Name: "get", Method: get, Path: path + "diff-approval"},
		{Name: "approval on missing", Method: http.MethodPatch, Path: path + "missing/approval", ContentType: mergeP, Body: approve},
		{Name: "post approval", Method: post, Path: path + "diff-approval/approval", Body: "{}"},
		{Name: "delete", Method: http.MethodDelete, Path: path + "diff-approval"},
	})
}
