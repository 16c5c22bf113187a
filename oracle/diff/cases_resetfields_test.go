//go:build oracle

package diff

import (
	"strings"
	"testing"
)

// TestApplyResetFields writes through the subresources whose upstream
// strategies reset fields of their own (GetResetFields): the fields a
// write there cannot change, which its manager then does not own.
func TestApplyResetFields(t *testing.T) {
	pods := "/api/v1/namespaces/{ns}/pods"
	csrs := "/apis/certificates.k8s.io/v1/certificatesigningrequests"
	csr := "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: diff-reset}\n" +
		"spec: {request: " + csrRequest + ", signerName: example.com/signer, usages: [digital signature]}"
	reqs := []request{
		{Name: "pod", Method: post, Path: pods + "?fieldManager=maker",
			Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}"},
		{Name: "pod status apply with spec, labels and owners", Method: patch, Path: pods + "/p/status?fieldManager=kubelet&force=true",
			ContentType: applyP,
			Body: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: b}\n" +
				"  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: o, uid: 5c1f6bd4-1d84-4fbb-9e4e-4e4c9d2f8a02}]\n" +
				"spec: {activeDeadlineSeconds: 5}\nstatus: {message: hi}"},
		{Name: "deployment", Method: patch, Path: deploysPath + "/web?fieldManager=maker", ContentType: applyP, Body: applyDeployWith("1")},
		{Name: "deployment status apply with labels", Method: patch, Path: deploysPath + "/web/status?fieldManager=ctl&force=true",
			ContentType: applyP,
			Body: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {x: \"y\"}, annotations: {n: m}}\n" +
				"spec: {replicas: 9}\nstatus: {observedGeneration: 1}"},
		{Name: "csr apply with status", Method: patch, Path: csrs + "/diff-reset?fieldManager=maker", ContentType: applyP,
			Body: csr + "\nstatus: {conditions: [{type: Approved, status: \"True\", reason: R}]}"},
		{Name: "csr status apply", Method: patch, Path: csrs + "/diff-reset/status?fieldManager=signer&force=true", ContentType: applyP,
			Body: "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: diff-reset}\n" +
				"status: {conditions: [{type: Failed, status: \"True\", reason: R}]}"},
		{Name: "csr approval apply", Method: patch, Path: csrs + "/diff-reset/approval?fieldManager=approver&force=true", ContentType: applyP,
			Body: "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: diff-reset}\n" +
				"status: {conditions: [{type: Approved, status: \"True\", reason: R}]}"},
		{Name: "csr delete", Method: "DELETE", Path: csrs + "/diff-reset"},
		{Name: "namespace finalize", Method: put, Path: "/api/v1/namespaces/{ns}/finalize?fieldManager=fin",
			Body: `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{ns}","labels":{"f":"g"}},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}`},
	}
	for i := range reqs {
		reqs[i].ManagedFields = true
		reqs[i].Body = strings.TrimSpace(reqs[i].Body)
	}
	runScenario(t, "reset-fields", reqs)
}

// TestApplyHPAVersions applies one HorizontalPodAutoscaler through
// autoscaling/v2 and autoscaling/v1, whose managedFields record each
// manager's version, and takes the fields of one over the other.
func TestApplyHPAVersions(t *testing.T) {
	v1 := "/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers"
	v2 := "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers"
	target := "scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}"
	reqs := []request{
		{Name: "v2 apply", Method: patch, Path: v2 + "/h?fieldManager=two", ContentType: applyP,
			Body: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  " + target +
				"\n  maxReplicas: 5\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}}]"},
		{Name: "v1 apply conflicts", Method: patch, Path: v1 + "/h?fieldManager=one", ContentType: applyP,
			Body: "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {" + target +
				", maxReplicas: 7, targetCPUUtilizationPercentage: 70}"},
		{Name: "v1 apply forced", Method: patch, Path: v1 + "/h?fieldManager=one&force=true", ContentType: applyP,
			Body: "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {" + target +
				", maxReplicas: 7, targetCPUUtilizationPercentage: 70}"},
		{Name: "v2 get", Method: get, Path: v2 + "/h"},
		{Name: "v1 get", Method: get, Path: v1 + "/h"},
	}
	for i := range reqs {
		reqs[i].ManagedFields = true
	}
	runScenario(t, "apply-hpa", reqs)
}
