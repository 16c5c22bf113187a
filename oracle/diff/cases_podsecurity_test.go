//go:build oracle

package diff

import "testing"

// The PodSecurity admission plugin (on by default in kube-apiserver, with
// privileged:latest defaults): the pod-security.kubernetes.io labels of a
// namespace refuse pods (enforce), warn about pods and workload templates
// (warn), and are themselves validated; tightening enforce warns about the
// pods already in the namespace.

const (
	psaNamespaces = "/api/v1/namespaces"
	// psaHostPod breaks baseline (host namespaces).
	psaHostPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: host}\nspec: {hostNetwork: true, containers: [{name: c, image: busybox}]}"
	// psaPlainPod meets baseline, breaks restricted.
	psaPlainPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: plain}\nspec: {containers: [{name: c, image: busybox}]}"
	// psaRestrictedPod meets restricted.
	psaRestrictedPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: restricted}\nspec: {securityContext: {runAsNonRoot: true, " +
		"seccompProfile: {type: RuntimeDefault}}, containers: [{name: c, image: busybox, securityContext: " +
		"{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}"
	psaHostTemplate = "template: {metadata: {labels: {app: w}}, spec: {hostPID: true, " +
		"containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [NET_ADMIN]}}}]}}"
	psaHostJobTemplate = "template: {spec: {hostPID: true, restartPolicy: Never, " +
		"containers: [{name: c, image: busybox, securityContext: {capabilities: {add: [NET_ADMIN]}}}]}}"
)

func psaNamespace(name, labels string) request {
	return request{Name: "namespace " + name, Method: post, Path: psaNamespaces,
		Body: "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + ", labels: {" + labels + "}}"}
}

func TestPodSecurityEnforce(t *testing.T) {
	const (
		base   = "diff-psa-baseline"
		strict = "diff-psa-restricted"
	)
	pods := func(ns string) string { return psaNamespaces + "/" + ns + "/pods" }
	runScenario(t, "psa-enforce", []request{
		psaNamespace(base, "pod-security.kubernetes.io/enforce: baseline"),
		{Name: "host pod refused", Method: post, Path: pods(base), Body: psaHostPod},
		{Name: "host pod dry run refused", Method: post, Path: pods(base) + "?dryRun=All", Body: psaHostPod},
		{Name: "plain pod admitted", Method: post, Path: pods(base), Body: psaPlainPod},
		// A generated name is in the message as upstream's (registest's
		// TestPodSecurity: the names differ between the two servers).
		{Name: "image change evaluated", Method: patch, Path: pods(base) + "/plain", ContentType: smpP,
			Body: `{"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}`},
		{Name: "label change", Method: patch, Path: pods(base) + "/plain", ContentType: mergeP, Body: `{"metadata":{"labels":{"a":"b"}}}`},
		{Name: "ephemeral container refused", Method: patch, Path: pods(base) + "/plain/ephemeralcontainers", ContentType: smpP,
			Body: `{"spec":{"ephemeralContainers":[{"name":"d","image":"busybox","targetContainerName":"c","securityContext":{"capabilities":{"add":["NET_ADMIN"]}}}]}}`},
		{Name: "status not evaluated", Method: patch, Path: pods(base) + "/plain/status", ContentType: mergeP,
			Body: `{"status":{"conditions":[{"type":"Ready","status":"False"}]}}`},

		psaNamespace(strict, "pod-security.kubernetes.io/enforce: restricted, pod-security.kubernetes.io/enforce-version: v1.30"),
		{Name: "plain pod refused by restricted", Method: post, Path: pods(strict), Body: psaPlainPod},
		{Name: "restricted pod admitted", Method: post, Path: pods(strict), Body: psaRestrictedPod},
		{Name: "host pod refused by restricted", Method: post, Path: pods(strict), Body: psaHostPod},
	})
}

func TestPodSecurityWarnings(t *testing.T) {
	const (
		warn = "diff-psa-warn"
		base = "diff-psa-workloads"
	)
	pods := psaNamespaces + "/" + warn + "/pods"
	apps := "/apis/apps/v1/namespaces/" + base + "/"
	batch := "/apis/batch/v1/namespaces/" + base + "/"
	core := psaNamespaces + "/" + base + "/"
	head := func(apiVersion, kind, name string) string {
		return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: " + name + "}\n"
	}
	const sel = "selector: {matchLabels: {app: w}}, "
	runScenario(t, "psa-warnings", []request{
		psaNamespace(warn, "pod-security.kubernetes.io/warn: restricted, pod-security.kubernetes.io/audit: baseline"),
		{Name: "host pod warned", Method: post, Path: pods, Body: psaHostPod},
		{Name: "plain pod warned", Method: post, Path: pods, Body: psaPlainPod},
		{Name: "second host pod", Method: post, Path: pods,
			Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: another}\nspec: {hostNetwork: true, containers: [{name: c, image: busybox}]}"},
		{Name: "restricted pod", Method: post, Path: pods, Body: psaRestrictedPod},
		{Name: "label update not evaluated", Method: patch, Path: pods + "/host", ContentType: mergeP, Body: `{"metadata":{"labels":{"a":"b"}}}`},
		{Name: "image update evaluated", Method: patch, Path: pods + "/host", ContentType: smpP,
			Body: `{"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}`},
		{Name: "enforce baseline warns about existing pods", Method: patch, Path: psaNamespaces + "/" + warn, ContentType: mergeP,
			Body: `{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}`},
		{Name: "image update refused under the new enforce", Method: patch, Path: pods + "/host", ContentType: smpP,
			Body: `{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}`},
		{Name: "apply refused under the new enforce", Method: patch, Path: pods + "/applied?fieldManager=m", ContentType: applyP,
			Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: applied}\nspec: {hostIPC: true, containers: [{name: c, image: busybox}]}"},
		{Name: "apply admitted with a warning", Method: patch, Path: pods + "/applied?fieldManager=m", ContentType: applyP,
			Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: applied}\nspec: {containers: [{name: c, image: busybox}]}"},
		{Name: "enforce restricted warns about existing pods", Method: patch, Path: psaNamespaces + "/" + warn, ContentType: mergeP,
			Body: `{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}`},
		{Name: "enforce relaxed", Method: patch, Path: psaNamespaces + "/" + warn, ContentType: mergeP,
			Body: `{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`},

		psaNamespace(base, "pod-security.kubernetes.io/enforce: baseline"),
		{Name: "deployment", Method: post, Path: apps + "deployments", Body: head("apps/v1", "Deployment", "web") + "spec: {" + sel + psaHostTemplate + "}"},
		{Name: "deployment scale", Method: patch, Path: apps + "deployments/web/scale", ContentType: mergeP, Body: `{"spec":{"replicas":2}}`},
		{Name: "deployment labels", Method: patch, Path: apps + "deployments/web", ContentType: mergeP, Body: `{"metadata":{"labels":{"a":"b"}}}`},
		{Name: "daemonset", Method: post, Path: apps + "daemonsets", Body: head("apps/v1", "DaemonSet", "ds") + "spec: {" + sel + psaHostTemplate + "}"},
		{Name: "statefulset", Method: post, Path: apps + "statefulsets",
			Body: head("apps/v1", "StatefulSet", "sts") + "spec: {serviceName: s, " + sel + psaHostTemplate + "}"},
		{Name: "replicaset", Method: post, Path: apps + "replicasets", Body: head("apps/v1", "ReplicaSet", "rs") + "spec: {" + sel + psaHostTemplate + "}"},
		{Name: "job", Method: post, Path: batch + "jobs", Body: head("batch/v1", "Job", "job") + "spec: {" + psaHostJobTemplate + "}"},
		{Name: "cronjob", Method: post, Path: batch + "cronjobs",
			Body: head("batch/v1", "CronJob", "cj") + "spec: {schedule: \"* * * * *\", jobTemplate: {spec: {" + psaHostJobTemplate + "}}}"},
		{Name: "replicationcontroller", Method: post, Path: core + "replicationcontrollers",
			Body: head("v1", "ReplicationController", "rc") + "spec: {selector: {app: w}, " + psaHostTemplate + "}"},
		{Name: "podtemplate", Method: post, Path: core + "podtemplates", Body: head("v1", "PodTemplate", "pt") + psaHostTemplate},
	})
}

func TestPodSecurityLabels(t *testing.T) {
	const ns = "diff-psa-labeled"
	runScenario(t, "psa-labels", []request{
		psaNamespace("diff-psa-bad-level", "pod-security.kubernetes.io/enforce: strict"),
		psaNamespace("diff-psa-bad-labels", "pod-security.kubernetes.io/enforce: Baseline, pod-security.kubernetes.io/enforce-version: \"1.30\", "+
			"pod-security.kubernetes.io/audit: x, pod-security.kubernetes.io/audit-version: v2.0, "+
			"pod-security.kubernetes.io/warn: \"\", pod-security.kubernetes.io/warn-version: v1.x"),
		psaNamespace("diff-psa-versions", "pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/enforce-version: v1.0, "+
			"pod-security.kubernetes.io/warn: restricted, pod-security.kubernetes.io/warn-version: v1.999"),
		psaNamespace(ns, "pod-security.kubernetes.io/audit: restricted"),
		{Name: "bad label on update", Method: patch, Path: psaNamespaces + "/" + ns, ContentType: mergeP,
			Body: `{"metadata":{"labels":{"pod-security.kubernetes.io/warn":"bogus"}}}`},
		{Name: "bad version on update", Method: put, Path: psaNamespaces + "/" + ns,
			Body: "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + ", labels: {pod-security.kubernetes.io/enforce-version: latest1}}"},
		{Name: "other label", Method: patch, Path: psaNamespaces + "/" + ns, ContentType: mergeP, Body: `{"metadata":{"labels":{"a":"b"}}}`},
		{Name: "audit only: no warning", Method: post, Path: psaNamespaces + "/" + ns + "/pods", Body: psaHostPod},
	})
}
