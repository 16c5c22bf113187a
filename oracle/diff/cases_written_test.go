//go:build oracle

package diff

import "testing"

// TestWrittenObjectsAsStored: the object a create or update answers is
// what a read of the stored bytes gives (regis returns the written object
// made so, kube-apiserver decodes what it stored): empty lists and maps
// become absent or null, a secret's null value "", quantities canonical.
func TestWrittenObjectsAsStored(t *testing.T) {
	runScenario(t, "written", []request{
		{Name: "configmap with empty maps", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps",
			Body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":{},"annotations":{},"finalizers":[]},"data":{},"binaryData":{}}`},
		{Name: "update configmap with empty maps", Method: put, Path: "/api/v1/namespaces/{ns}/configmaps/cm",
			Body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":{}},"data":{"a":""},"binaryData":{}}`},
		{Name: "secret with a null value", Method: post, Path: "/api/v1/namespaces/{ns}/secrets",
			Body: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"a":null,"b":""},"type":"Opaque"}`},
		{Name: "get secret", Method: get, Path: "/api/v1/namespaces/{ns}/secrets/s"},
		{Name: "pod with empty lists and odd quantities", Method: post, Path: "/api/v1/namespaces/{ns}/pods",
			Body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{}},"spec":{"nodeSelector":{},"tolerations":[],` +
				`"containers":[{"name":"c","image":"busybox","args":[],"command":[],"env":[],"ports":[],` +
				`"resources":{"requests":{"cpu":"1000m","memory":"0.1Gi"},"limits":{"cpu":"2","memory":"1e9"}}}]}}`},
		{Name: "get pod", Method: get, Path: "/api/v1/namespaces/{ns}/pods/p"},
		{Name: "role with empty rules", Method: post, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
			Body: `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"},"rules":[]}`},
		{Name: "merge patch to empty lists", Method: patch, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/r",
			ContentType: mergeP, Body: `{"metadata":{"labels":{}},"rules":[{"apiGroups":[],"resources":["pods"],"verbs":["get"],"resourceNames":[]}]}`},
	})
}
