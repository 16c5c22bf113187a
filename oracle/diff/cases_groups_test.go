//go:build oracle

package diff

import (
	"strings"
	"testing"
)

// asTable is the Accept header of kubectl get's server-side printing.
const asTable = "application/json;as=Table;v=v1;g=meta.k8s.io"

// csrRequest is a PEM certificate request (CN=regis-test, P-256), base64.
const csrRequest = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIUE1IY0NBUUF3RlRFVE1CRUdBMVVFQXd3S2NtVm5hWE10ZEdWemREQlpNQk1HQnlxR1NNNDlBZ0VHQ0NxRwpTTTQ5QXdFSEEwSUFCSFBmSi84dzFPS003L29kSUFWT2RxbmhmYjM2aVlVK1NvL1FYZGNOS1F2d2ZQR0QwZ1IrCmJaZTcrVzFlVCtzUTJxTE1EaFpTZ0ppU0dXWm5UWkZ5eldpZ0FEQUtCZ2dxaGtqT1BRUURBZ05JQURCRkFpRUEKN1h6c1FYOHdmam0xLzJXeW1wNXVsVVJlbE00WEhpempua3B0dDQyWUl1UUNJSENYOENzanRlK1YyNDRHS1JsSgozNDhueUxaVStvOXV0SGVWQUpEN1NtQnYKLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg=="

// groupObject is one object of a resource of the groups regis added late:
// where it lives, its body, and how a step changes it.
type groupObject struct {
	// step names the resource in the scenario's steps.
	step string
	// collection is the path of the resource's collection; {ns} is the
	// scenario's namespace.
	collection, name, body string
	// conditional is true when upstream refuses an update without a
	// resourceVersion (AllowUnconditionalUpdate false): the update is a
	// merge patch, and a PUT without one is checked to fail alike.
	conditional bool
	// update is a YAML body for PUT (or a merge patch when conditional).
	update string
	// status, when set, is a merge patch of the /status subresource.
	status string
}

func (g groupObject) requests() []request {
	item := g.collection + "/" + g.name
	reqs := []request{
		{Name: g.step + " create", Method: post, Path: g.collection, Body: g.body},
		{Name: g.step + " create again", Method: post, Path: g.collection, Body: g.body},
		{Name: g.step + " get", Method: get, Path: item},
		{Name: g.step + " list", Method: get, Path: g.collection},
		{Name: g.step + " list as table", Method: get, Path: g.collection, Accept: asTable},
		{Name: g.step + " get as table", Method: get, Path: item, Accept: asTable},
	}
	if g.conditional {
		reqs = append(reqs,
			request{Name: g.step + " update without rv", Method: put, Path: item, Body: g.body},
			request{Name: g.step + " update", Method: patch, Path: item, ContentType: mergeP, Body: g.update})
	} else {
		reqs = append(reqs, request{Name: g.step + " update", Method: put, Path: item, Body: g.update})
	}
	if g.status != "" {
		reqs = append(reqs,
			request{Name: g.step + " status patch", Method: patch, Path: item + "/status", ContentType: mergeP, Body: g.status},
			request{Name: g.step + " get status", Method: get, Path: item + "/status"})
	}
	return append(reqs,
		request{Name: g.step + " get updated", Method: get, Path: item},
		request{Name: g.step + " update missing", Method: put, Path: g.collection + "/nope", Body: strings.Replace(g.body, "name: "+g.name, "name: nope", 1)},
		request{Name: g.step + " delete", Method: del, Path: item},
		request{Name: g.step + " get deleted", Method: get, Path: item},
	)
}

const labelPatch = `{"metadata":{"labels":{"changed":"yes"}}}`

var groupObjects = []groupObject{
	{step: "hpa v2", collection: "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers", name: "web",
		body: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: memory, target: {type: AverageValue, averageValue: 100Mi}}
  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}`,
		update: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 7`,
		status: `{"status":{"currentReplicas":2,"desiredReplicas":3}}`},
	{step: "hpa v1", collection: "/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers", name: "api",
		body: `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 4
  targetCPUUtilizationPercentage: 60`,
		update: `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 6`,
		status: `{"status":{"currentReplicas":1,"desiredReplicas":2,"currentCPUUtilizationPercentage":40}}`},
	{step: "validatingwebhook", collection: "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
		name: "diff-vwc", conditional: true, update: labelPatch,
		body: `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: diff-vwc}
webhooks:
- name: v.example.com
  clientConfig: {service: {namespace: default, name: hook}}
  rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
  admissionReviewVersions: [v1]
  sideEffects: None
  namespaceSelector: {matchLabels: {diff-webhook: never}}`},
	{step: "mutatingwebhook", collection: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
		name: "diff-mwc", conditional: true, update: labelPatch,
		body: `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: diff-mwc}
webhooks:
- name: m.example.com
  clientConfig: {url: "https://hook.example.com/m"}
  rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
  admissionReviewVersions: [v1]
  sideEffects: None
  objectSelector: {matchLabels: {diff-webhook: never}}`},
	{step: "validatingadmissionpolicy", collection: "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
		name: "diff-vap", conditional: true, update: labelPatch,
		body: `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: diff-vap}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]
  validations: [{expression: "object.spec.replicas <= 50"}]`},
	{step: "validatingadmissionpolicybinding", collection: "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
		name: "diff-vapb", conditional: true, update: labelPatch,
		body: `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: diff-vapb}
spec:
  policyName: diff-vap-none
  validationActions: [Deny]
  matchResources: {namespaceSelector: {matchLabels: {diff-policy: never}}}`},
	{step: "mutatingadmissionpolicy", collection: "/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies",
		name: "diff-map", conditional: true, update: labelPatch,
		body: `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: diff-map}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]
  reinvocationPolicy: Never
  mutations:
  - patchType: JSONPatch
    jsonPatch: {expression: "[JSONPatch{op: \"test\", path: \"/kind\", value: \"Deployment\"}]"}`},
	{step: "mutatingadmissionpolicybinding", collection: "/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings",
		name: "diff-mapb", conditional: true, update: labelPatch,
		body: `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: diff-mapb}
spec:
  policyName: diff-map-none
  matchResources: {namespaceSelector: {matchLabels: {diff-policy: never}}}`},
	{step: "csr", collection: "/apis/certificates.k8s.io/v1/certificatesigningrequests", name: "diff-csr",
		body: `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: diff-csr}
spec:
  request: ` + csrRequest + `
  signerName: example.com/signer
  usages: [digital signature, client auth]
  expirationSeconds: 3600`,
		update: `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: diff-csr, labels: {changed: "yes"}}
spec:
  request: ` + csrRequest + `
  signerName: example.com/signer
  usages: [digital signature, client auth]`,
		status: `{"status":{"conditions":[{"type":"Failed","status":"True","reason":"Test","message":"by the diff"}]}}`},
	{step: "flowschema", collection: "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas", name: "diff-fs",
		body: `apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: diff-fs}
spec:
  priorityLevelConfiguration: {name: global-default}
  distinguisherMethod: {type: ByUser}
  rules:
  - subjects: [{kind: Group, group: {name: diff-nobody}}]
    resourceRules: [{verbs: [get], apiGroups: [""], resources: [pods], namespaces: ["*"]}]`,
		update: `apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: diff-fs}
spec:
  priorityLevelConfiguration: {name: global-default}
  matchingPrecedence: 9000
  rules:
  - subjects: [{kind: Group, group: {name: diff-nobody}}]
    resourceRules: [{verbs: [get], apiGroups: [""], resources: [pods], namespaces: ["*"]}]`,
		status: `{"status":{"conditions":[{"type":"Dangling","status":"False","reason":"Found","message":"by the diff"}]}}`},
	{step: "prioritylevel", collection: "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations", name: "diff-pl",
		body: `apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: diff-pl}
spec:
  type: Limited
  limited: {limitResponse: {type: Queue, queuing: {queues: 16}}}`,
		update: `apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: diff-pl}
spec:
  type: Limited
  limited: {nominalConcurrencyShares: 5, limitResponse: {type: Reject}}`,
		status: `{"status":{"conditions":[{"type":"Test","status":"True","reason":"Diff"}]}}`},
	{step: "runtimeclass", collection: "/apis/node.k8s.io/v1/runtimeclasses", name: "diff-rc",
		conditional: true, update: labelPatch,
		body: "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: diff-rc}\nhandler: runc"},
	{step: "priorityclass", collection: "/apis/scheduling.k8s.io/v1/priorityclasses", name: "diff-pc",
		body:   "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: diff-pc}\nvalue: 1000",
		update: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: diff-pc}\nvalue: 1000\ndescription: changed"},
	{step: "ingressclass", collection: "/apis/networking.k8s.io/v1/ingressclasses", name: "diff-ic",
		body: `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: diff-ic}
spec:
  controller: example.com/ingress
  parameters: {apiGroup: example.com, kind: Params, name: p}`,
		update: `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: diff-ic, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec:
  controller: example.com/ingress`},
	{step: "csidriver", collection: "/apis/storage.k8s.io/v1/csidrivers", name: "csi.diff.example.com",
		conditional: true, update: `{"spec":{"podInfoOnMount":true}}`,
		body: "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: csi.diff.example.com}\nspec: {attachRequired: false}"},
	{step: "csinode", collection: "/apis/storage.k8s.io/v1/csinodes", name: "diff-node",
		conditional: true, update: labelPatch,
		body: `apiVersion: storage.k8s.io/v1
kind: CSINode
metadata: {name: diff-node}
spec:
  drivers: [{name: csi.diff.example.com, nodeID: n1, topologyKeys: [zone]}]`},
	{step: "volumeattachment", collection: "/apis/storage.k8s.io/v1/volumeattachments", name: "diff-va",
		conditional: true, update: labelPatch, status: `{"status":{"attached":true}}`,
		body: `apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata: {name: diff-va}
spec:
  attacher: csi.diff.example.com
  nodeName: diff-node
  source: {persistentVolumeName: pv1}`},
	{step: "csistoragecapacity", collection: "/apis/storage.k8s.io/v1/namespaces/{ns}/csistoragecapacities", name: "cap",
		conditional: true, update: `{"capacity":"2Gi"}`,
		body: `apiVersion: storage.k8s.io/v1
kind: CSIStorageCapacity
metadata: {name: cap}
storageClassName: standard
capacity: 1Gi
nodeTopology: {matchLabels: {zone: a}}`},
	{step: "volumeattributesclass", collection: "/apis/storage.k8s.io/v1/volumeattributesclasses", name: "diff-vac",
		body:   "apiVersion: storage.k8s.io/v1\nkind: VolumeAttributesClass\nmetadata: {name: diff-vac}\ndriverName: csi.diff.example.com\nparameters: {iops: \"100\"}",
		update: "apiVersion: storage.k8s.io/v1\nkind: VolumeAttributesClass\nmetadata: {name: diff-vac, labels: {changed: \"yes\"}}\ndriverName: csi.diff.example.com\nparameters: {iops: \"100\"}"},
	{step: "deviceclass", collection: "/apis/resource.k8s.io/v1/deviceclasses", name: "diff-dc",
		body:   "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: diff-dc}\nspec: {}",
		update: "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: diff-dc}\nspec: {selectors: [{cel: {expression: \"device.driver == 'dra.example.com'\"}}]}"},
	{step: "resourceclaim", collection: "/apis/resource.k8s.io/v1/namespaces/{ns}/resourceclaims", name: "claim",
		body: `apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: claim}
spec:
  devices:
    requests: [{name: gpu, exactly: {deviceClassName: diff-dc, tolerations: [{key: k, effect: NoSchedule}]}}]`,
		update: `apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: claim, labels: {changed: "yes"}}
spec:
  devices:
    requests: [{name: gpu, exactly: {deviceClassName: diff-dc, tolerations: [{key: k, effect: NoSchedule}]}}]`},
	{step: "resourceclaimtemplate", collection: "/apis/resource.k8s.io/v1/namespaces/{ns}/resourceclaimtemplates", name: "tmpl",
		body: `apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: tmpl}
spec:
  spec:
    devices:
      requests: [{name: gpu, firstAvailable: [{name: a, deviceClassName: diff-dc}]}]`,
		update: `apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: tmpl, labels: {changed: "yes"}}
spec:
  spec:
    devices:
      requests: [{name: gpu, firstAvailable: [{name: a, deviceClassName: diff-dc}]}]`},
	{step: "resourceslice", collection: "/apis/resource.k8s.io/v1/resourceslices", name: "diff-slice",
		body: `apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: diff-slice}
spec:
  driver: dra.example.com
  nodeName: diff-node
  pool: {name: pool, generation: 1, resourceSliceCount: 1}
  devices: [{name: d0}]`,
		update: `apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: diff-slice}
spec:
  driver: dra.example.com
  nodeName: diff-node
  pool: {name: pool, generation: 2, resourceSliceCount: 1}
  devices: [{name: d0}, {name: d1}]`},
}

// TestGroups creates, reads, lists (also as tables), updates and deletes
// one object of each resource of the groups beyond core, apps and batch.
func TestGroups(t *testing.T) {
	var reqs []request
	for _, g := range groupObjects {
		reqs = append(reqs, g.requests()...)
	}
	runScenario(t, "groupobjects", reqs)
}

// TestHPAVersions reads one autoscaler through both versions.
func TestHPAVersions(t *testing.T) {
	const v1, v2 = "/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers", "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers"
	runScenario(t, "hpa", []request{
		{Name: "create v2", Method: post, Path: v2, Body: groupObjects[0].body},
		{Name: "get v1", Method: get, Path: v1 + "/web"},
		{Name: "list v1", Method: get, Path: v1},
		{Name: "list v1 as table", Method: get, Path: v1, Accept: asTable},
		{Name: "status v2", Method: patch, Path: v2 + "/web/status", ContentType: mergeP,
			Body: `{"status":{"currentReplicas":2,"desiredReplicas":2,"conditions":[{"type":"AbleToScale","status":"True","reason":"Ready"}],` +
				`"currentMetrics":[{"type":"Resource","resource":{"name":"memory","current":{"averageValue":"50Mi"}}}]}}`},
		{Name: "get v1 after status", Method: get, Path: v1 + "/web"},
		{Name: "patch v1", Method: patch, Path: v1 + "/web", ContentType: mergeP, Body: `{"spec":{"maxReplicas":9}}`},
		{Name: "get v2 after v1 patch", Method: get, Path: v2 + "/web"},
		{Name: "create v1", Method: post, Path: v1, Body: groupObjects[1].body},
		{Name: "get v2 of v1", Method: get, Path: v2 + "/api"},
	})
}

// TestGroupValidation sends invalid objects of the added groups.
func TestGroupValidation(t *testing.T) {
	const pcs, rcs = "/apis/scheduling.k8s.io/v1/priorityclasses", "/apis/node.k8s.io/v1/runtimeclasses"
	runScenario(t, "groupvalidation", []request{
		{Name: "priorityclass too high", Method: post, Path: pcs,
			Body: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: diff-high}\nvalue: 1000000001"},
		{Name: "priorityclass system prefix", Method: post, Path: pcs,
			Body: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-diff}\nvalue: 10"},
		{Name: "priorityclass bad preemption", Method: post, Path: pcs,
			Body: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: diff-bad}\nvalue: 10\npreemptionPolicy: Sometimes"},
		{Name: "priorityclass create", Method: post, Path: pcs,
			Body: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: diff-val}\nvalue: 10"},
		{Name: "priorityclass value change", Method: put, Path: pcs + "/diff-val",
			Body: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: diff-val}\nvalue: 11"},
		{Name: "priorityclass delete", Method: del, Path: pcs + "/diff-val"},
		{Name: "runtimeclass without handler", Method: post, Path: rcs,
			Body: "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: diff-nohandler}"},
		{Name: "runtimeclass bad handler", Method: post, Path: rcs,
			Body: "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: diff-badhandler}\nhandler: Not_A_Label"},
		{Name: "runtimeclass create", Method: post, Path: rcs,
			Body: "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: diff-rc2}\nhandler: runc"},
		{Name: "runtimeclass handler change", Method: patch, Path: rcs + "/diff-rc2", ContentType: mergeP, Body: `{"handler":"crun"}`},
		{Name: "runtimeclass put creates", Method: put, Path: rcs + "/diff-rc3",
			Body: "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: diff-rc3}\nhandler: runc"},
		{Name: "runtimeclass delete", Method: del, Path: rcs + "/diff-rc2"},
		{Name: "runtimeclass delete created", Method: del, Path: rcs + "/diff-rc3"},
		{Name: "volumeattachment create", Method: post, Path: "/apis/storage.k8s.io/v1/volumeattachments",
			Body: "apiVersion: storage.k8s.io/v1\nkind: VolumeAttachment\nmetadata: {name: diff-va2}\nspec: {attacher: csi.example.com, nodeName: n, source: {persistentVolumeName: pv}}"},
		{Name: "volumeattachment spec change", Method: patch, Path: "/apis/storage.k8s.io/v1/volumeattachments/diff-va2",
			ContentType: mergeP, Body: `{"spec":{"nodeName":"other"}}`},
		{Name: "volumeattachment delete", Method: del, Path: "/apis/storage.k8s.io/v1/volumeattachments/diff-va2"},
		{Name: "csr without usages", Method: post, Path: "/apis/certificates.k8s.io/v1/certificatesigningrequests",
			Body: "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: diff-csr2}\nspec: {request: " + csrRequest + ", signerName: example.com/signer}"},
		{Name: "hpa v1 get missing", Method: get, Path: "/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers/nope"},
		{Name: "hpa v2 delete missing", Method: del, Path: "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/nope"},
	})
}
