//go:build oracle

package diff

import (
	"regexp"
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

// service asks for its address, so that the change of clusterIP below is
// a change on both servers whatever they would have allocated. The address
// is in the range's lower band, which kube-apiserver's allocator leaves to
// requested addresses while the upper band has room (other cases' services
// get random ones).
const service = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.0.0.10
  ports: [{port: 80}]
  selector: {app: web}`

func TestServices(t *testing.T) {
	runScenario(t, "services", []request{
		{Name: "create", Method: post, Path: "/api/v1/namespaces/{ns}/services", Body: service},
		{Name: "dry run create", Method: post, Path: "/api/v1/namespaces/{ns}/services?dryRun=All",
			Body: strings.Replace(strings.Replace(service, "name: web", "name: dry", 1), "  clusterIP: 10.0.0.10\n", "", 1)},
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
		{Name: "rolebinding without roleRef apiGroup", Method: post, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
			Body: "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb2}\nroleRef: {kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: default, namespace: {ns}}]"},
		{Name: "clusterrolebinding without roleRef apiGroup", Method: post, Path: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
			Body: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: diff-rbac-crb}\nroleRef: {kind: ClusterRole, name: view}\nsubjects: [{kind: Group, name: g}]"},
		{Name: "delete clusterrolebinding", Method: del, Path: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/diff-rbac-crb"},
		{Name: "change roleRef", Method: patch, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/rb", ContentType: mergeP,
			Body: `{"roleRef":{"name":"other"}}`},
	})
}

func TestWorkloads(t *testing.T) {
	runScenario(t, "workloads", []request{
		// A manual selector, so that the template (printed in the answer) holds no uid.
		{Name: "job", Method: post, Path: "/apis/batch/v1/namespaces/{ns}/jobs",
			Body: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  manualSelector: true\n  selector: {matchLabels: {app: j}}\n  template:\n    metadata: {labels: {app: j}}\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]"},
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

// invalid is a create of an object (YAML, apiVersion and kind first) at
// path, named for the rule it breaks; "@" in body is that name as an
// object name, so that each object has its own and a create that one
// server accepts does not make the next one differ.
func invalid(name, path, body string) request {
	slug := strings.Trim(nonName.ReplaceAllString(strings.ToLower(name), "-"), "-")
	return request{Name: name, Method: post, Path: path, Body: strings.ReplaceAll(body, "@", slug)}
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

const (
	podsPath = "/api/v1/namespaces/{ns}/pods"
	podHead  = "apiVersion: v1\nkind: Pod\nmetadata: {name: @}\n"
)

func TestInvalidPods(t *testing.T) {
	pod := func(name, spec string) request { return invalid(name, podsPath, podHead+"spec: "+spec) }
	ctr := func(name, fields string) request {
		return pod(name, "{containers: [{name: c, image: busybox, "+fields+"}]}")
	}
	runScenario(t, "invalid-pods", []request{
		pod("no containers", "{containers: []}"),
		pod("no image", "{containers: [{name: c}]}"),
		pod("bad container name", "{containers: [{name: C_1, image: busybox}]}"),
		pod("duplicate container names", "{containers: [{name: c, image: busybox}, {name: c, image: busybox}]}"),
		pod("init named as container", "{initContainers: [{name: c, image: busybox}], containers: [{name: c, image: busybox}]}"),
		pod("bad restart policy", "{restartPolicy: Sometimes, containers: [{name: c, image: busybox}]}"),
		pod("bad dns policy", "{dnsPolicy: Nope, containers: [{name: c, image: busybox}]}"),
		pod("bad activeDeadlineSeconds", "{activeDeadlineSeconds: 0, containers: [{name: c, image: busybox}]}"),
		pod("bad hostname", "{hostname: Bad_Host, containers: [{name: c, image: busybox}]}"),
		pod("bad service account", "{serviceAccountName: Bad_SA, containers: [{name: c, image: busybox}]}"),
		pod("bad node selector", "{nodeSelector: {\"bad key!\": x}, containers: [{name: c, image: busybox}]}"),
		pod("volume without source", "{volumes: [{name: v}], containers: [{name: c, image: busybox}]}"),
		pod("duplicate volumes", "{volumes: [{name: v, emptyDir: {}}, {name: v, emptyDir: {}}], containers: [{name: c, image: busybox}]}"),
		pod("negative grace period", "{terminationGracePeriodSeconds: -5, containers: [{name: c, image: busybox}]}"),
		ctr("port out of range", "ports: [{containerPort: 70000}]"),
		ctr("bad port protocol", "ports: [{containerPort: 80, protocol: HTTP}]"),
		ctr("duplicate port names", "ports: [{name: web, containerPort: 80}, {name: web, containerPort: 81}]"),
		ctr("bad env name", "env: [{name: \"a=b\", value: x}]"),
		ctr("env without name", "env: [{value: x}]"),
		ctr("mount of missing volume", "volumeMounts: [{name: v, mountPath: /x}]"),
		ctr("unknown resource", "resources: {limits: {gpu: \"1\"}}"),
		ctr("negative memory", "resources: {requests: {memory: \"-1\"}}"),
		ctr("runAsUser negative", "securityContext: {runAsUser: -1}"),
		ctr("bad termination message policy", "terminationMessagePolicy: Sometimes"),
		ctr("liveness probe without handler", "livenessProbe: {periodSeconds: 10}"),
		ctr("restartPolicy on a container", "restartPolicy: Always"),
		pod("pod", "{containers: [{name: c, image: busybox}]}"),
		{Name: "change container name", Method: patch, Path: podsPath + "/pod", ContentType: mergeP,
			Body: `{"spec":{"activeDeadlineSeconds":10,"hostname":"other"}}`},
	})
}

const servicesPath = "/api/v1/namespaces/{ns}/services"

func TestInvalidServices(t *testing.T) {
	svc := func(name, spec string) request {
		return invalid(name, servicesPath, "apiVersion: v1\nkind: Service\nmetadata: {name: @}\nspec: "+spec)
	}
	runScenario(t, "invalid-services", []request{
		svc("no ports", "{selector: {app: a}}"),
		svc("bad type", "{type: Foo, ports: [{port: 80}]}"),
		svc("port zero", "{ports: [{port: 0}]}"),
		svc("unnamed ports", "{ports: [{port: 80}, {port: 81}]}"),
		svc("duplicate port names", "{ports: [{name: a, port: 80}, {name: a, port: 81}]}"),
		svc("duplicate ports", "{ports: [{name: a, port: 80}, {name: b, port: 80}]}"),
		svc("externalName missing", "{type: ExternalName}"),
		svc("bad externalName", "{type: ExternalName, externalName: Bad_Name}"),
		svc("nodePort on ClusterIP", "{ports: [{port: 80, nodePort: 30080}]}"),
		svc("bad selector", "{selector: {app: \"bad value!\"}, ports: [{port: 80}]}"),
		svc("bad protocol", "{ports: [{port: 80, protocol: HTTP}]}"),
		svc("bad session affinity", "{sessionAffinity: Sticky, ports: [{port: 80}]}"),
		svc("bad clusterIP", "{clusterIP: abc, ports: [{port: 80}]}"),
		svc("clusterIP out of range", "{clusterIP: 192.168.99.1, ports: [{port: 80}]}"),
		svc("externalTrafficPolicy on ClusterIP", "{externalTrafficPolicy: Local, ports: [{port: 80}]}"),
		svc("bad targetPort name", "{ports: [{port: 80, targetPort: Bad_Port}]}"),
		svc("bad ipFamilyPolicy", "{ipFamilyPolicy: Sometimes, ports: [{port: 80}]}"),
		svc("loadBalancerSourceRanges on ClusterIP", "{loadBalancerSourceRanges: [10.0.0.0/8], ports: [{port: 80}]}"),
		svc("headless with nodePort type", "{type: NodePort, clusterIP: None, ports: [{port: 80}]}"),
	})
}

func TestInvalidApps(t *testing.T) {
	const tmpl = "template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: busybox}]}}"
	obj := func(kind, name, spec string) request {
		return invalid(name, "/apis/apps/v1/namespaces/{ns}/"+strings.ToLower(kind)+"s",
			"apiVersion: apps/v1\nkind: "+kind+"\nmetadata: {name: @}\nspec: "+spec)
	}
	deploy := func(name, spec string) request { return obj("Deployment", "deployment "+name, spec) }
	runScenario(t, "invalid-apps", []request{
		deploy("without selector", "{"+tmpl+"}"),
		deploy("selector mismatch", "{selector: {matchLabels: {app: b}}, "+tmpl+"}"),
		deploy("empty selector", "{selector: {}, "+tmpl+"}"),
		deploy("negative replicas", "{replicas: -1, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		deploy("restartPolicy Never", "{selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}"),
		deploy("bad strategy", "{strategy: {type: Sideways}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		deploy("recreate with rollingUpdate", "{strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		deploy("zero surge and unavailable", "{strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		deploy("unavailable above 100%", "{strategy: {rollingUpdate: {maxUnavailable: 150%}}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		deploy("negative revisionHistoryLimit", "{revisionHistoryLimit: -1, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		deploy("negative minReadySeconds", "{minReadySeconds: -1, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		deploy("progress deadline below minReady", "{minReadySeconds: 10, progressDeadlineSeconds: 5, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		deploy("bad selector operator", "{selector: {matchExpressions: [{key: app, operator: Near}]}, "+tmpl+"}"),
		deploy("valid", "{selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		{Name: "deployment change selector", Method: patch, Path: "/apis/apps/v1/namespaces/{ns}/deployments/deployment-valid", ContentType: mergeP,
			Body: `{"spec":{"selector":{"matchLabels":{"app":"a","x":"y"}},"template":{"metadata":{"labels":{"x":"y"}}}}}`},
		obj("StatefulSet", "statefulset selector mismatch", "{serviceName: s, selector: {matchLabels: {app: b}}, "+tmpl+"}"),
		obj("StatefulSet", "statefulset bad podManagementPolicy", "{podManagementPolicy: Random, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		obj("StatefulSet", "statefulset bad updateStrategy", "{updateStrategy: {type: Sideways}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		obj("StatefulSet", "statefulset negative partition", "{updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: -1}}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		obj("StatefulSet", "statefulset bad retention", "{persistentVolumeClaimRetentionPolicy: {whenDeleted: Keep}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		obj("StatefulSet", "statefulset valid", "{serviceName: s, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		{Name: "statefulset change podManagementPolicy", Method: patch, Path: "/apis/apps/v1/namespaces/{ns}/statefulsets/statefulset-valid", ContentType: mergeP,
			Body: `{"spec":{"podManagementPolicy":"Parallel"}}`},
		obj("DaemonSet", "daemonset selector mismatch", "{selector: {matchLabels: {app: b}}, "+tmpl+"}"),
		obj("DaemonSet", "daemonset bad updateStrategy", "{updateStrategy: {type: Sideways}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		obj("DaemonSet", "daemonset zero surge and unavailable", "{updateStrategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}, selector: {matchLabels: {app: a}}, "+tmpl+"}"),
		obj("ReplicaSet", "replicaset selector mismatch", "{selector: {matchLabels: {app: b}}, "+tmpl+"}"),
	})
}

func TestInvalidBatch(t *testing.T) {
	const tmpl = "template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}"
	job := func(name, spec string) request {
		return invalid("job "+name, "/apis/batch/v1/namespaces/{ns}/jobs", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: @}\nspec: "+spec)
	}
	cron := func(name, meta, spec string) request {
		return invalid("cronjob "+name, "/apis/batch/v1/namespaces/{ns}/cronjobs",
			"apiVersion: batch/v1\nkind: CronJob\nmetadata: "+meta+"\nspec: "+spec)
	}
	const jt = "jobTemplate: {spec: {" + tmpl + "}}"
	runScenario(t, "invalid-batch", []request{
		job("restartPolicy Always", "{template: {spec: {restartPolicy: Always, containers: [{name: c, image: busybox}]}}}"),
		job("negative parallelism", "{parallelism: -1, "+tmpl+"}"),
		job("negative completions", "{completions: -1, "+tmpl+"}"),
		job("negative backoffLimit", "{backoffLimit: -1, "+tmpl+"}"),
		job("manual selector missing", "{manualSelector: true, "+tmpl+"}"),
		job("bad completionMode", "{completionMode: Sometimes, "+tmpl+"}"),
		job("indexed without completions", "{completionMode: Indexed, "+tmpl+"}"),
		job("zero activeDeadlineSeconds", "{activeDeadlineSeconds: 0, "+tmpl+"}"),
		job("negative ttl", "{ttlSecondsAfterFinished: -1, "+tmpl+"}"),
		job("bad podFailurePolicy", "{podFailurePolicy: {rules: [{action: Explode, onExitCodes: {operator: In, values: [1]}}]}, "+tmpl+"}"),
		job("valid", "{"+tmpl+"}"),
		{Name: "job change completions", Method: patch, Path: "/apis/batch/v1/namespaces/{ns}/jobs/job-valid", ContentType: mergeP,
			Body: `{"spec":{"completions":3}}`},
		{Name: "job change completionMode", Method: patch, Path: "/apis/batch/v1/namespaces/{ns}/jobs/job-valid", ContentType: mergeP,
			Body: `{"spec":{"completionMode":"Indexed"}}`},
		cron("missing schedule", "{name: @}", "{"+jt+"}"),
		cron("bad schedule", "{name: @}", "{schedule: \"not a cron\", "+jt+"}"),
		cron("bad concurrencyPolicy", "{name: @}", "{schedule: \"* * * * *\", concurrencyPolicy: Sometimes, "+jt+"}"),
		cron("bad timeZone", "{name: @}", "{schedule: \"* * * * *\", timeZone: Mars/Olympus, "+jt+"}"),
		cron("TZ in schedule", "{name: @}", "{schedule: \"TZ=UTC * * * * *\", "+jt+"}"),
		cron("negative startingDeadlineSeconds", "{name: @}", "{schedule: \"* * * * *\", startingDeadlineSeconds: -1, "+jt+"}"),
		cron("negative history limit", "{name: @}", "{schedule: \"* * * * *\", successfulJobsHistoryLimit: -1, "+jt+"}"),
		cron("name too long", "{name: "+strings.Repeat("c", 53)+"}", "{schedule: \"* * * * *\", "+jt+"}"),
		cron("template restartPolicy Always", "{name: @}", "{schedule: \"* * * * *\", jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: busybox}]}}}}}"),
	})
}

func TestInvalidNetworking(t *testing.T) {
	ing := func(name, spec string) request {
		return invalid("ingress "+name, "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses",
			"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: @}\nspec: "+spec)
	}
	np := func(name, spec string) request {
		return invalid("networkpolicy "+name, "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
			"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: @}\nspec: "+spec)
	}
	eps := func(name, body string) request {
		return invalid("endpointslice "+name, "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
			"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: @}\n"+body)
	}
	const backend = "backend: {service: {name: s, port: {number: 80}}}"
	runScenario(t, "invalid-networking", []request{
		ing("without backend or rules", "{}"),
		ing("bad host", "{rules: [{host: Bad_Host, http: {paths: [{path: /, pathType: Prefix, "+backend+"}]}}]}"),
		ing("IP host", "{rules: [{host: 1.2.3.4, http: {paths: [{path: /, pathType: Prefix, "+backend+"}]}}]}"),
		ing("relative path", "{rules: [{http: {paths: [{path: foo, pathType: Prefix, "+backend+"}]}}]}"),
		ing("missing pathType", "{rules: [{http: {paths: [{path: /, "+backend+"}]}}]}"),
		ing("bad pathType", "{rules: [{http: {paths: [{path: /, pathType: Glob, "+backend+"}]}}]}"),
		ing("service and resource", "{defaultBackend: {service: {name: s, port: {number: 80}}, resource: {kind: K, name: r}}}"),
		ing("service without port", "{defaultBackend: {service: {name: s}}}"),
		ing("bad port name", "{defaultBackend: {service: {name: s, port: {name: Bad_Port}}}}"),
		ing("tls bad host", "{defaultBackend: {service: {name: s, port: {number: 80}}}, tls: [{hosts: [Bad_Host]}]}"),
		np("bad policyTypes", "{podSelector: {}, policyTypes: [Sideways]}"),
		np("bad port protocol", "{podSelector: {}, ingress: [{ports: [{protocol: HTTP, port: 80}]}]}"),
		np("bad cidr", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}"),
		np("except outside cidr", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]}"),
		np("ipBlock and selector", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}"),
		np("bad podSelector", "{podSelector: {matchLabels: {\"bad key!\": x}}}"),
		np("endPort below port", "{podSelector: {}, egress: [{ports: [{port: 90, endPort: 80}]}]}"),
		eps("bad addressType", "addressType: IPv5\nendpoints: []"),
		eps("endpoint without addresses", "addressType: IPv4\nendpoints: [{addresses: []}]"),
		eps("bad IPv4 address", "addressType: IPv4\nendpoints: [{addresses: [\"::1\"]}]"),
		eps("bad port name", "addressType: IPv4\nendpoints: []\nports: [{name: Bad_Port, port: 80}]"),
		eps("bad fqdn", "addressType: FQDN\nendpoints: [{addresses: [\"Bad_Name\"]}]"),
		eps("bad hostname", "addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], hostname: Bad_Host}]"),
	})
}

func TestInvalidConfig(t *testing.T) {
	core := func(name, kind, resource, rest string) request {
		return invalid(name, "/api/v1/namespaces/{ns}/"+resource, "apiVersion: v1\nkind: "+kind+"\n"+rest)
	}
	runScenario(t, "invalid-config", []request{
		core("configmap key in data and binaryData", "ConfigMap", "configmaps", "metadata: {name: @}\ndata: {a: x}\nbinaryData: {a: eA==}"),
		core("configmap immutable", "ConfigMap", "configmaps", "metadata: {name: imm}\nimmutable: true\ndata: {a: x}"),
		{Name: "configmap immutable change", Method: patch, Path: "/api/v1/namespaces/{ns}/configmaps/imm", ContentType: mergeP,
			Body: `{"data":{"a":"y"},"immutable":false}`},
		core("secret bad key", "Secret", "secrets", "metadata: {name: @}\nstringData: {\"a b\": x}"),
		core("secret basic-auth empty", "Secret", "secrets", "metadata: {name: @}\ntype: kubernetes.io/basic-auth"),
		core("secret ssh-auth empty", "Secret", "secrets", "metadata: {name: @}\ntype: kubernetes.io/ssh-auth"),
		core("secret token without annotation", "Secret", "secrets", "metadata: {name: @}\ntype: kubernetes.io/service-account-token"),
		core("secret dockercfg not JSON", "Secret", "secrets", "metadata: {name: @}\ntype: kubernetes.io/dockercfg\nstringData: {.dockercfg: nope}"),
		core("secret unknown type", "Secret", "secrets", "metadata: {name: @}\ntype: example.com/custom"),
		core("secret bad type", "Secret", "secrets", "metadata: {name: @}\ntype: \"bad type!\""),
		core("serviceaccount bad name", "ServiceAccount", "serviceaccounts", "metadata: {name: Bad_SA}"),
		core("limitrange bad type", "LimitRange", "limitranges", "metadata: {name: @}\nspec: {limits: [{type: Node, max: {cpu: \"1\"}}]}"),
		core("limitrange min above max", "LimitRange", "limitranges", "metadata: {name: @}\nspec: {limits: [{type: Container, min: {cpu: \"2\"}, max: {cpu: \"1\"}}]}"),
		core("limitrange default above max", "LimitRange", "limitranges", "metadata: {name: @}\nspec: {limits: [{type: Container, default: {cpu: \"2\"}, max: {cpu: \"1\"}}]}"),
		core("limitrange default on pod", "LimitRange", "limitranges", "metadata: {name: @}\nspec: {limits: [{type: Pod, default: {cpu: \"1\"}}]}"),
		core("resourcequota bad resource", "ResourceQuota", "resourcequotas", "metadata: {name: @}\nspec: {hard: {\"bad name!\": \"1\"}}"),
		core("resourcequota negative", "ResourceQuota", "resourcequotas", "metadata: {name: @}\nspec: {hard: {pods: \"-1\"}}"),
		core("resourcequota fractional pods", "ResourceQuota", "resourcequotas", "metadata: {name: @}\nspec: {hard: {pods: 500m}}"),
		core("resourcequota bad scope", "ResourceQuota", "resourcequotas", "metadata: {name: @}\nspec: {hard: {pods: \"1\"}, scopes: [Sometimes]}"),
		core("pvc without accessModes", "PersistentVolumeClaim", "persistentvolumeclaims", "metadata: {name: @}\nspec: {resources: {requests: {storage: 1Gi}}}"),
		core("pvc without storage", "PersistentVolumeClaim", "persistentvolumeclaims", "metadata: {name: @}\nspec: {accessModes: [ReadWriteOnce]}"),
		core("pvc bad accessMode", "PersistentVolumeClaim", "persistentvolumeclaims", "metadata: {name: @}\nspec: {accessModes: [ReadWriteSometimes], resources: {requests: {storage: 1Gi}}}"),
		core("pvc negative storage", "PersistentVolumeClaim", "persistentvolumeclaims", "metadata: {name: @}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: \"-1\"}}}"),
		core("pvc bad volumeMode", "PersistentVolumeClaim", "persistentvolumeclaims", "metadata: {name: @}\nspec: {volumeMode: Raw, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"),
		core("pvc valid", "PersistentVolumeClaim", "persistentvolumeclaims", "metadata: {name: @}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"),
		{Name: "pvc change accessModes", Method: patch, Path: "/api/v1/namespaces/{ns}/persistentvolumeclaims/pvc-valid", ContentType: mergeP,
			Body: `{"spec":{"accessModes":["ReadWriteMany"]}}`},
		invalid("lease negative transitions", "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
			"apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: @}\nspec: {leaseTransitions: -1}"),
		invalid("role non-resource URL", "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: @}\nrules: [{nonResourceURLs: [/healthz], verbs: [get]}]"),
		invalid("rolebinding bad subject", "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: @}\nroleRef: {apiGroup: x, kind: Pod, name: r}\nsubjects: [{kind: Robot, name: a}]"),
		invalid("pdb both", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
			"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: @}\nspec: {minAvailable: 1, maxUnavailable: 1}"),
		invalid("pdb negative", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
			"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: @}\nspec: {minAvailable: -1}"),
		invalid("pdb above 100%", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
			"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: @}\nspec: {maxUnavailable: 150%}"),
		invalid("pdb bad eviction policy", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
			"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: @}\nspec: {minAvailable: 1, unhealthyPodEvictionPolicy: Sometimes}"),
		invalid("pdb bad selector", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
			"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: @}\nspec: {minAvailable: 1, selector: {matchExpressions: [{key: a, operator: Near}]}}"),
	})
}

func TestInvalidClusterObjects(t *testing.T) {
	cluster := func(name, path, body string) request { return invalid(name, path, body) }
	const pvPath = "/api/v1/persistentvolumes"
	pv := func(name, spec string) request {
		return cluster("pv "+name, pvPath, "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: @}\nspec: "+spec)
	}
	const src = "hostPath: {path: /tmp}"
	sc := func(name, rest string) request {
		return cluster("storageclass "+name, "/apis/storage.k8s.io/v1/storageclasses",
			"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: @}\n"+rest)
	}
	runScenario(t, "invalid-cluster", []request{
		cluster("namespace bad name", "/api/v1/namespaces", "apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad_NS}"),
		cluster("namespace long name", "/api/v1/namespaces", "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+strings.Repeat("n", 64)+"}"),
		cluster("namespace bad finalizer", "/api/v1/namespaces", "apiVersion: v1\nkind: Namespace\nmetadata: {name: @}\nspec: {finalizers: [\"bad finalizer\"]}"),
		cluster("node bad podCIDR", "/api/v1/nodes", "apiVersion: v1\nkind: Node\nmetadata: {name: @}\nspec: {podCIDR: 10.0.0.0/33}"),
		cluster("node bad taint effect", "/api/v1/nodes", "apiVersion: v1\nkind: Node\nmetadata: {name: @}\nspec: {taints: [{key: a, effect: Sometimes}]}"),
		cluster("node bad taint key", "/api/v1/nodes", "apiVersion: v1\nkind: Node\nmetadata: {name: @}\nspec: {taints: [{key: \"bad key!\", effect: NoSchedule}]}"),
		cluster("node duplicate taints", "/api/v1/nodes", "apiVersion: v1\nkind: Node\nmetadata: {name: @}\nspec: {taints: [{key: a, effect: NoSchedule}, {key: a, effect: NoSchedule}]}"),
		pv("without capacity", "{accessModes: [ReadWriteOnce], "+src+"}"),
		pv("without accessModes", "{capacity: {storage: 1Gi}, "+src+"}"),
		pv("without source", "{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}"),
		pv("two sources", "{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], "+src+", nfs: {server: s, path: /x}}"),
		pv("bad reclaim policy", "{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], persistentVolumeReclaimPolicy: Keep, "+src+"}"),
		pv("relative hostPath", "{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: tmp}}"),
		pv("valid", "{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], "+src+"}"),
		sc("without provisioner", ""),
		sc("bad reclaimPolicy", "provisioner: example.com/x\nreclaimPolicy: Keep"),
		sc("bad volumeBindingMode", "provisioner: example.com/x\nvolumeBindingMode: Later"),
		sc("bad provisioner", "provisioner: \"Bad Provisioner!\""),
		sc("valid", "provisioner: example.com/x\nparameters: {a: b}"),
		{Name: "storageclass change parameters", Method: patch, Path: "/apis/storage.k8s.io/v1/storageclasses/storageclass-valid", ContentType: mergeP,
			Body: `{"parameters":{"a":"c"}}`},
		{Name: "delete storageclass", Method: del, Path: "/apis/storage.k8s.io/v1/storageclasses/storageclass-valid", IgnoreBody: true},
		{Name: "delete pv", Method: del, Path: pvPath + "/pv-valid", IgnoreBody: true},
	})
}
