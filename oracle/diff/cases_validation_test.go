//go:build oracle

package diff

import (
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	runScenario(t, "secrets", []request{
		{Name: "create opaque", Method: post, Path: "/api/v1/namespaces/{ns}/secrets",
			Body: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}"},
		{Name: "change type", Method: patch, Path: "/api/v1/namespaces/{ns}/secrets/s", ContentType: mergeP,
			Body: `{"type":"kubernetes.io/tls"}`},
		{Name: "tls without keys", Method: post, Path: "/api/v1/namespaces/{ns}/secrets",
			Body: "apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ntype: kubernetes.io/tls\ndata: {}"},
		{Name: "dockerconfigjson without key", Method: post, Path: "/api/v1/namespaces/{ns}/secrets",
			Body: "apiVersion: v1\nkind: Secret\nmetadata: {name: dcj}\ntype: kubernetes.io/dockerconfigjson\ndata: {}"},
		{Name: "immutable", Method: post, Path: "/api/v1/namespaces/{ns}/secrets",
			Body: "apiVersion: v1\nkind: Secret\nmetadata: {name: imm}\nimmutable: true\nstringData: {a: b}"},
		{Name: "immutable change", Method: patch, Path: "/api/v1/namespaces/{ns}/secrets/imm", ContentType: mergeP,
			Body: `{"stringData":{"a":"c"}}`},
	})
}

const service = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
  selector: {app: web}`

func TestServices(t *testing.T) {
	runScenario(t, "services", []request{
		{Name: "create", Method: post, Path: "/api/v1/namespaces/{ns}/services", Body: service},
		{Name: "dry run create", Method: post, Path: "/api/v1/namespaces/{ns}/services?dryRun=All",
			Body: strings.Replace(service, "name: web", "name: dry", 1)},
		{Name: "change clusterIP", Method: patch, Path: "/api/v1/namespaces/{ns}/services/web", ContentType: mergeP,
			Body: `{"spec":{"clusterIP":"10.0.0.99","clusterIPs":["10.0.0.99"]}}`},
		{Name: "load balancer status on ClusterIP", Method: patch, Path: "/api/v1/namespaces/{ns}/services/web/status", ContentType: mergeP,
			Body: `{"status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}}}`},
		{Name: "nodeport out of range", Method: post, Path: "/api/v1/namespaces/{ns}/services",
			Body: "apiVersion: v1\nkind: Service\nmetadata: {name: np}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}"},
		{Name: "delete", Method: del, Path: "/api/v1/namespaces/{ns}/services/web"},
	})
}

func TestRBAC(t *testing.T) {
	runScenario(t, "rbac", []request{
		{Name: "role without verbs", Method: post, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
			Body: "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{apiGroups: [\"\"], resources: [pods]}]"},
		{Name: "role", Method: post, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
			Body: "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]"},
		{Name: "rolebinding", Method: post, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
			Body: "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: User, name: alice}]"},
		{Name: "change roleRef", Method: patch, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/rb", ContentType: mergeP,
			Body: `{"roleRef":{"name":"other"}}`},
	})
}

func TestWorkloads(t *testing.T) {
	runScenario(t, "workloads", []request{
		{Name: "job", Method: post, Path: "/apis/batch/v1/namespaces/{ns}/jobs",
			Body: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]"},
		{Name: "change job template", Method: patch, Path: "/apis/batch/v1/namespaces/{ns}/jobs/j", ContentType: smpP,
			Body: `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`},
		{Name: "delete job", Method: del, Path: "/apis/batch/v1/namespaces/{ns}/jobs/j", IgnoreBody: true},
		{Name: "pod bad pull policy", Method: post, Path: "/api/v1/namespaces/{ns}/pods",
			Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: p1}\nspec: {containers: [{name: c, image: busybox, imagePullPolicy: Sometimes}]}"},
		{Name: "pod requests above limits", Method: post, Path: "/api/v1/namespaces/{ns}/pods",
			Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: p2}\nspec: {containers: [{name: c, image: busybox, resources: {requests: {cpu: \"2\"}, limits: {cpu: \"1\"}}}]}"},
		{Name: "pod privileged", Method: post, Path: "/api/v1/namespaces/{ns}/pods",
			Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: p3}\nspec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}"},
		{Name: "pod", Method: post, Path: "/api/v1/namespaces/{ns}/pods",
			Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: busybox}]}"},
		{Name: "pod binding", Method: post, Path: "/api/v1/namespaces/{ns}/pods/p/binding",
			Body: "apiVersion: v1\nkind: Binding\nmetadata: {name: p}\ntarget: {kind: Node, name: n1}"},
		{Name: "pod eviction", Method: post, Path: "/api/v1/namespaces/{ns}/pods/p/eviction",
			Body: "apiVersion: policy/v1\nkind: Eviction\nmetadata: {name: p}"},
		{Name: "pod log", Method: get, Path: "/api/v1/namespaces/{ns}/pods/p/log"},
		{Name: "lease zero duration", Method: post, Path: "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
			Body: "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: l}\nspec: {leaseDurationSeconds: 0}"},
		{Name: "pvc", Method: post, Path: "/api/v1/namespaces/{ns}/persistentvolumeclaims",
			Body: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"},
		{Name: "status patch with labels", Method: patch, Path: "/api/v1/namespaces/{ns}/pods/p/status", ContentType: mergeP,
			Body: `{"metadata":{"labels":{"x":"y"}},"status":{"phase":"Running"}}`},
	})
}

func TestMissingGroups(t *testing.T) {
	var reqs []request
	for _, p := range []string{
		"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
		"/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers",
		"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
		"/apis/apiregistration.k8s.io/v1/apiservices",
		"/apis/certificates.k8s.io/v1/certificatesigningrequests",
		"/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas",
		"/apis/node.k8s.io/v1/runtimeclasses",
		"/apis/scheduling.k8s.io/v1/priorityclasses",
		"/apis/networking.k8s.io/v1/ingressclasses",
		"/apis/storage.k8s.io/v1/csidrivers",
		"/apis/storage.k8s.io/v1/csinodes",
		"/apis/storage.k8s.io/v1/volumeattachments",
		"/apis/resource.k8s.io/v1/deviceclasses",
	} {
		reqs = append(reqs, request{Name: "list " + p, Method: get, Path: p, IgnoreBody: true})
	}
	runScenario(t, "groups", reqs)
}
