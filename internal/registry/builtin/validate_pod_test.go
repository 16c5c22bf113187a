package builtin_test

import "testing"

func TestPodValidation(t *testing.T) {
	pod := func(container string) string {
		return "metadata: {name: p}\nspec: {containers: [" + container + "]}"
	}
	runVerdicts(t, []verdictCase{
		{name: "plain", resource: "pods", obj: pod("{name: c, image: busybox}")},
		{name: "bad pull policy", resource: "pods", obj: pod("{name: c, image: busybox, imagePullPolicy: Sometimes}"),
			want: []string{`spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`}},
		{name: "requests above limits", resource: "pods",
			obj:  pod(`{name: c, image: busybox, resources: {requests: {cpu: "2"}, limits: {cpu: "1"}}}`),
			want: []string{`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`}},
		{name: "privileged", resource: "pods", obj: pod("{name: c, image: busybox, securityContext: {privileged: true}}"),
			want: []string{"spec.containers[0].securityContext.privileged: Forbidden: disallowed by cluster policy"}},
		{name: "unknown resource", resource: "pods", obj: pod(`{name: c, image: busybox, resources: {limits: {gpu: "1"}}}`),
			want: []string{
				`spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified`,
				`spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers`,
				// Requests default to limits.
				`spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified`,
				`spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers`,
			}},
		{name: "mount of a missing volume", resource: "pods", obj: pod("{name: c, image: busybox, volumeMounts: [{name: v, mountPath: /x}]}"),
			want: []string{`spec.containers[0].volumeMounts[0].name: Not found: "v"`}},
		{name: "init container named as a container", resource: "pods",
			obj:  "metadata: {name: p}\nspec: {initContainers: [{name: c, image: busybox}], containers: [{name: c, image: busybox}]}",
			want: []string{`spec.initContainers[0].name: Duplicate value: "c"`}},
	})
}

func TestServiceValidation(t *testing.T) {
	const svc = "metadata: {name: web}\nspec: {ports: [{port: 80}], clusterIP: 10.0.0.10, clusterIPs: [10.0.0.10]}"
	runVerdicts(t, []verdictCase{
		{name: "change clusterIP", resource: "services", old: svc,
			obj:  "metadata: {name: web}\nspec: {ports: [{port: 80}], clusterIP: 10.0.0.99, clusterIPs: [10.0.0.99]}",
			want: []string{`spec.clusterIPs[0]: Invalid value: ["10.0.0.99"]: may not change once set`}},
		{name: "same clusterIP", resource: "services", old: svc, obj: "metadata: {name: web}\nspec: {ports: [{port: 80}]}"},
	})
}
