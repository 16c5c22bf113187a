//go:build oracle

package diff

import "testing"

// ResourceQuota. The oracle runs no controller manager, so its quotas get
// no status by themselves; regis's controller writes one at once. Each
// scenario therefore writes the status both servers would agree on
// through /status (regis's controller, seeing status.hard equal to
// spec.hard and the usage it computes, leaves it as it is), then checks
// and charges requests against it on both. Left out: the "status unknown
// for quota" 403, which regis answers only in the instant between a
// quota's creation and its controller's first sync.

func TestResourceQuotaAdmission(t *testing.T) {
	const q = "/api/v1/namespaces/{ns}/resourcequotas"
	secret := func(name string) string { return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + "}" }
	pod := func(name, resources string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec: {containers: [{name: c, image: busybox" + resources + "}]}"
	}
	runScenario(t, "quota", []request{
		{Name: "create", Method: post, Path: q,
			Body: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: objects}\nspec: {hard: {count/secrets: \"1\"}}"},
		{Name: "status", Method: patch, Path: q + "/objects/status", ContentType: mergeP,
			Body: `{"status":{"hard":{"count/secrets":"1"},"used":{"count/secrets":"0"}}}`},
		// The oracle's plugin reads quotas from its informer: these reads
		// give the patched status time to reach it.
		{Name: "status read", Method: get, Path: q + "/objects"},
		{Name: "status list", Method: get, Path: q, IgnoreBody: true},
		{Name: "first secret", Method: post, Path: "/api/v1/namespaces/{ns}/secrets", Body: secret("s1")},
		{Name: "second secret exceeds", Method: post, Path: "/api/v1/namespaces/{ns}/secrets", Body: secret("s2")},
		{Name: "dry run exceeds", Method: post, Path: "/api/v1/namespaces/{ns}/secrets?dryRun=All", Body: secret("s3")},
		{Name: "config map not limited", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}"},
		// (Its managedFields were compared once by hand: kube-apiserver's
		// entry for the charge is equal; the rest depends on whether
		// regis's controller wrote the status before the patch above.)
		{Name: "charged", Method: get, Path: q + "/objects"},

		{Name: "compute quota", Method: post, Path: q,
			Body: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: compute}\nspec: {hard: {requests.cpu: \"1\", pods: \"2\"}}"},
		{Name: "compute status", Method: patch, Path: q + "/compute/status", ContentType: mergeP,
			Body: `{"status":{"hard":{"requests.cpu":"1","pods":"2"},"used":{"requests.cpu":"0","pods":"0"}}}`},
		{Name: "compute status read", Method: get, Path: q + "/compute"},
		{Name: "compute status list", Method: get, Path: q, IgnoreBody: true},
		{Name: "pod without requests", Method: post, Path: "/api/v1/namespaces/{ns}/pods", Body: pod("bare", "")},
		{Name: "pod within", Method: post, Path: "/api/v1/namespaces/{ns}/pods",
			Body: pod("small", ", resources: {requests: {cpu: 600m}}")},
		{Name: "pod over requests.cpu", Method: post, Path: "/api/v1/namespaces/{ns}/pods",
			Body: pod("big", ", resources: {requests: {cpu: 500m}}")},
		{Name: "compute charged", Method: get, Path: q + "/compute"},
	})
}

func TestResourceQuotaServicesClaims(t *testing.T) {
	const q = "/api/v1/namespaces/{ns}/resourcequotas"
	svc := func(name, typ string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec: {type: " + typ + ", ports: [{name: a, port: 80}, {name: b, port: 81}]}"
	}
	claim := func(name, size string) string {
		return "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: " + name + "}\nspec: {storageClassName: gold, " +
			"accessModes: [ReadWriteOnce], resources: {requests: {storage: " + size + "}}}"
	}
	const gold = "gold.storageclass.storage.k8s.io/requests.storage"
	runScenario(t, "quota-svc-pvc", []request{
		{Name: "services quota", Method: post, Path: q,
			Body: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: svc}\nspec: {hard: {services.nodeports: \"3\", services.loadbalancers: \"0\"}}"},
		{Name: "services status", Method: patch, Path: q + "/svc/status", ContentType: mergeP,
			Body: `{"status":{"hard":{"services.nodeports":"3","services.loadbalancers":"0"},"used":{"services.nodeports":"0","services.loadbalancers":"0"}}}`},
		{Name: "services status read", Method: get, Path: q + "/svc"},
		{Name: "services status list", Method: get, Path: q, IgnoreBody: true},
		{Name: "cluster ip service", Method: post, Path: "/api/v1/namespaces/{ns}/services", Body: svc("plain", "ClusterIP"), IgnoreBody: true},
		{Name: "node port service", Method: post, Path: "/api/v1/namespaces/{ns}/services", Body: svc("np", "NodePort"), IgnoreBody: true},
		{Name: "second node port service exceeds", Method: post, Path: "/api/v1/namespaces/{ns}/services", Body: svc("np2", "NodePort")},
		{Name: "load balancer exceeds", Method: post, Path: "/api/v1/namespaces/{ns}/services", Body: svc("lb", "LoadBalancer")},
		{Name: "type change exceeds", Method: patch, Path: "/api/v1/namespaces/{ns}/services/plain", ContentType: mergeP,
			Body: `{"spec":{"type":"NodePort"}}`},
		{Name: "services charged", Method: get, Path: q + "/svc"},

		{Name: "claims quota", Method: post, Path: q,
			Body: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: pvc}\nspec: {hard: {" + gold + ": 1Gi, persistentvolumeclaims: \"5\"}}"},
		{Name: "claims status", Method: patch, Path: q + "/pvc/status", ContentType: mergeP,
			Body: `{"status":{"hard":{"` + gold + `":"1Gi","persistentvolumeclaims":"5"},"used":{"` + gold + `":"0","persistentvolumeclaims":"0"}}}`},
		{Name: "claims status read", Method: get, Path: q + "/pvc"},
		{Name: "claims status list", Method: get, Path: q, IgnoreBody: true},
		{Name: "claim within", Method: post, Path: "/api/v1/namespaces/{ns}/persistentvolumeclaims", Body: claim("small", "500Mi")},
		{Name: "claim exceeds", Method: post, Path: "/api/v1/namespaces/{ns}/persistentvolumeclaims", Body: claim("big", "600Mi")},
		{Name: "claims charged", Method: get, Path: q + "/pvc"},
	})
}
