package builtin_test

import "testing"

func TestNodeValidation(t *testing.T) {
	node := func(rest string) string { return "metadata: {name: n1}\n" + rest }
	const kubelet = `metadata:
  name: worker-1
  labels: {kubernetes.io/hostname: worker-1, kubernetes.io/os: linux, node-role.kubernetes.io/worker: ""}
  annotations: {node.alpha.kubernetes.io/ttl: "0", volumes.kubernetes.io/controller-managed-attach-detach: "true"}
spec:
  podCIDR: 10.244.1.0/24
  podCIDRs: [10.244.1.0/24]
  providerID: kind://docker/kind/worker-1
  taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}, {key: dedicated, value: gpu, effect: NoExecute}]
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110", ephemeral-storage: 100Gi, hugepages-2Mi: "0", nvidia.com/gpu: "1"}
  allocatable: {cpu: 3800m, memory: 7Gi, pods: "110"}
  addresses: [{type: InternalIP, address: 172.18.0.2}, {type: Hostname, address: worker-1}]
  nodeInfo: {kubeletVersion: v1.37.2, swap: {capacity: 1024}}
  declaredFeatures: [FeatureA, FeatureB/Sub]
  conditions: [{type: Ready, status: "True", reason: KubeletReady, message: ok}]`
	const upstreamDup = "taints must be unique by key and effect pair"
	runVerdicts(t, []verdictCase{
		{name: "bad podCIDR", resource: "nodes", obj: node("spec: {podCIDR: 10.0.0.0/33}"),
			want: []string{`spec.podCIDRs[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`}},
		{name: "bad taint effect", resource: "nodes", obj: node("spec: {taints: [{key: a, effect: Sometimes}]}"),
			want: []string{`metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`}},
		{name: "bad taint key", resource: "nodes", obj: node("spec: {taints: [{key: \"bad key!\", effect: NoSchedule}]}"),
			want: []string{`metadata.taints[0].key: Invalid value: "bad key!": ` + qualifiedNameMsg}},
		{name: "duplicate taints", resource: "nodes", obj: node("spec: {taints: [{key: a, effect: NoSchedule}, {key: a, effect: NoSchedule}]}"),
			want: []string{`metadata.taints[1]: Duplicate value: {"Key":"a","Value":"","Effect":"NoSchedule","TimeAdded":null}: ` + upstreamDup}},
		{name: "kubelet registration", resource: "nodes", obj: kubelet},
		{name: "bare", resource: "nodes", obj: node("")},
		{name: "dual-stack podCIDRs", resource: "nodes", obj: node("spec: {podCIDR: 10.244.0.0/24, podCIDRs: [10.244.0.0/24, \"fd00:10:244::/64\"]}")},
		{name: "same key other effect", resource: "nodes", obj: node("spec: {taints: [{key: a, effect: NoSchedule}, {key: a, effect: NoExecute}]}")},
		{name: "two IPv4 podCIDRs", resource: "nodes", obj: node("spec: {podCIDRs: [10.0.0.0/24, 10.1.0.0/24]}"),
			want: []string{`spec.podCIDRs: Invalid value: ["10.0.0.0/24","10.1.0.0/24"]: may specify no more than one CIDR for each IP family`}},
		{name: "podCIDR wins over podCIDRs", resource: "nodes", obj: node("spec: {podCIDR: 10.0.0.0/24, podCIDRs: [10.1.0.0/24, 10.2.0.0/24]}")},
		{name: "podCIDR host bits", resource: "nodes", obj: node("spec: {podCIDR: 10.0.0.1/24}"),
			want: []string{`spec.podCIDRs[0]: Invalid value: "10.0.0.1/24": must not have bits set beyond the prefix length`}},
		{name: "taint without effect", resource: "nodes", obj: node("spec: {taints: [{key: a}]}"),
			want: []string{"metadata.taints[0].effect: Required value"}},
		{name: "bad taint value", resource: "nodes", obj: node("spec: {taints: [{key: a, value: \"bad value\", effect: NoSchedule}]}"),
			want: []string{`metadata.taints[0].value: Invalid value: "bad value": ` + labelValueMsg}},
		{name: "negative capacity", resource: "nodes", obj: node("status: {capacity: {cpu: \"-1\"}}"),
			// The allocatable resources default to the capacity (SetDefaults_NodeStatus).
			want: []string{`status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0`,
				`status.allocatable.cpu: Invalid value: "-1": must be greater than or equal to 0`}},
		{name: "fractional pods", resource: "nodes", obj: node("status: {allocatable: {pods: \"1.5\"}}"),
			want: []string{`status.allocatable.pods: Invalid value: "1500m": must be an integer`}},
		{name: "zero swap", resource: "nodes", obj: node("status: {nodeInfo: {swap: {capacity: 0}}}"),
			want: []string{"metadata.nodeSwapStatus.capacity: Invalid value: 0: must be greater than zero"}},
		{name: "declared features", resource: "nodes", obj: node("status: {declaredFeatures: [Zeta, Alpha, Alpha, lower]}"),
			want: []string{
				`status.declaredFeatures[1]: Invalid value: "Alpha": list must be sorted alphabetically`,
				`status.declaredFeatures[2]: Duplicate value: "Alpha"`,
				`status.declaredFeatures[3]: Invalid value: "lower": invalid feature name "lower": must start with an UpperCamelCase segment, with subsequent segments separated by '/' (e.g., MyFeature or MyFeature/mySubFeature), and contain only alphanumeric characters and slashes`}},
		{name: "duplicate addresses on create", resource: "nodes",
			obj: node("status: {addresses: [{type: InternalIP, address: 10.0.0.1}, {type: InternalIP, address: 10.0.0.1}]}")},
		{name: "taints annotation not JSON", resource: "nodes",
			obj:  "metadata: {name: n1, annotations: {scheduler.alpha.kubernetes.io/taints: nope}}",
			want: []string{`metadata.annotations: Invalid value: "scheduler.alpha.kubernetes.io/taints": invalid character 'o' in literal null (expecting 'u')`}},
		{name: "taints annotation bad effect", resource: "nodes",
			obj:  "metadata: {name: n1, annotations: {scheduler.alpha.kubernetes.io/taints: '[{\"key\":\"a\",\"effect\":\"Never\"}]'}}",
			want: []string{`metadata.annotations.scheduler.alpha.kubernetes.io/taints[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`}},
		{name: "avoid pods annotation", resource: "nodes",
			obj: "metadata: {name: n1, annotations: {scheduler.alpha.kubernetes.io/preferAvoidPods: '{\"preferAvoidPods\":[{\"podSignature\":{}}," +
				"{\"podSignature\":{\"podController\":{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"name\":\"r\",\"uid\":\"u\",\"controller\":false}}}]}'}}",
			want: []string{
				"metadata.annotations.scheduler.alpha.kubernetes.io/preferAvoidPods[0].PodSignature: Required value",
				"metadata.annotations.scheduler.alpha.kubernetes.io/preferAvoidPods[1].PodSignature.PodController.Controller: Invalid value: false: must point to a controller"}},
	})
}

func TestNodeUpdateValidation(t *testing.T) {
	const old = "metadata: {name: n1}\nspec: {podCIDR: 10.0.0.0/24, providerID: aws:///a, externalID: e1}"
	upd := func(rest string) string { return "metadata: {name: n1, resourceVersion: \"9\"}\n" + rest }
	runVerdicts(t, []verdictCase{
		{name: "taints and unschedulable", resource: "nodes", old: old,
			obj: upd("spec: {podCIDR: 10.0.0.0/24, providerID: aws:///a, externalID: e1, unschedulable: true, taints: [{key: a, effect: NoSchedule}]}")},
		{name: "set podCIDR and providerID", resource: "nodes", old: "metadata: {name: n1}",
			obj: upd("spec: {podCIDR: 10.0.0.0/24, providerID: aws:///a}")},
		{name: "change podCIDR", resource: "nodes", old: old,
			obj:  upd("spec: {podCIDR: 10.1.0.0/24, providerID: aws:///a, externalID: e1}"),
			want: []string{`spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`}},
		{name: "add a podCIDR", resource: "nodes", old: old,
			obj:  upd("spec: {podCIDRs: [10.0.0.0/24, \"fd00::/64\"], providerID: aws:///a, externalID: e1}"),
			want: []string{`spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`}},
		{name: "change providerID", resource: "nodes", old: old,
			obj:  upd("spec: {podCIDR: 10.0.0.0/24, providerID: aws:///b, externalID: e1}"),
			want: []string{"spec.providerID: Invalid value: null: field cannot be modified once set"}},
		{name: "clear providerID", resource: "nodes", old: old,
			obj:  upd("spec: {podCIDR: 10.0.0.0/24, externalID: e1}"),
			want: []string{"spec.providerID: Invalid value: null: field cannot be cleared once set"}},
		{name: "change externalID", resource: "nodes", old: old,
			obj:  upd("spec: {podCIDR: 10.0.0.0/24, providerID: aws:///a, externalID: e2}"),
			want: []string{"spec.externalID: Forbidden: may not be updated"}},
		{name: "duplicate addresses", resource: "nodes", old: old,
			obj:  upd("spec: {podCIDR: 10.0.0.0/24, providerID: aws:///a, externalID: e1}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.1}, {type: InternalIP, address: 10.0.0.1}]}"),
			want: []string{`status.addresses[1]: Duplicate value: {"Type":"InternalIP","Address":"10.0.0.1"}`}},
		{name: "bad taint reported twice", resource: "nodes", old: old,
			obj: upd("spec: {podCIDR: 10.0.0.0/24, providerID: aws:///a, externalID: e1, taints: [{key: a, effect: Sometimes}]}"),
			want: []string{
				`metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
				`metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`}},
		{name: "zero swap", resource: "nodes", old: old,
			obj:  upd("spec: {podCIDR: 10.0.0.0/24, providerID: aws:///a, externalID: e1}\nstatus: {nodeInfo: {swap: {capacity: 0}}}"),
			want: []string{"metadata.nodeSwapStatus.capacity: Invalid value: 0: must be greater than zero"}},
	})
}
