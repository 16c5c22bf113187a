//go:build oracle

package diff

import "testing"

// Preparation and defaulting of the kinds whose upstream strategies
// change what is written (data sources, deprecated fields, labels), the
// checks upstream makes on create only, and the finalizer names core's
// metadata validation refuses.

const (
	pvcsPath = "/api/v1/namespaces/{ns}/persistentvolumeclaims"
	pvcHead  = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: @}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, "
	pvsPath  = "/api/v1/persistentvolumes"
	pvHead   = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: @}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], "
	pdbsPath = "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets"
	v1beta1  = "{key: pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match, operator: Exists}"
)

func TestPrepareStorage(t *testing.T) {
	runScenario(t, "prepare-storage", []request{
		invalid("pvc foreign dataSource", pvcsPath, pvcHead+"dataSource: {kind: Foo, apiGroup: example.com, name: x}}"),
		invalid("pvc claim dataSource", pvcsPath, pvcHead+"dataSource: {kind: PersistentVolumeClaim, name: x}}"),
		invalid("pvc dataSourceRef", pvcsPath, pvcHead+"dataSourceRef: {kind: Foo, apiGroup: example.com, name: x}}"),
		invalid("pvc cross-namespace dataSourceRef", pvcsPath, pvcHead+"dataSourceRef: {kind: Foo, apiGroup: example.com, name: x, namespace: other}}"),
		{Name: "pvc drop dataSource on update", Method: patch, Path: pvcsPath + "/pvc-claim-datasource", ContentType: mergeP,
			Body: `{"spec":{"dataSource":null}}`},
		invalid("pv azureDisk", pvsPath, pvHead+"azureDisk: {diskName: d, diskURI: \"https://a.blob.core.windows.net/c/d.vhd\"}}"),
		invalid("pv rbd", pvsPath, pvHead+"rbd: {monitors: [m], image: i}}"),
		invalid("pv iscsi", pvsPath, pvHead+"iscsi: {targetPortal: \"1.2.3.4:3260\", iqn: \"iqn.2001-04.com.example:storage\", lun: 0}}"),
		invalid("pv scaleIO", pvsPath, pvHead+"scaleIO: {gateway: g, system: s, secretRef: {name: x}, volumeName: v}}"),
		invalid("pod rbd and azureDisk volumes", podsPath, podHead+"spec: {containers: [{name: c, image: busybox}], volumes: [{name: v, rbd: {monitors: [m], image: i}}, "+
			"{name: w, azureDisk: {diskName: d, diskURI: \"https://a.blob.core.windows.net/c/d.vhd\"}}]}"),
		invalid("pod negative grace period", podsPath, podHead+"spec: {terminationGracePeriodSeconds: -5, containers: [{name: c, image: busybox}]}"),
		invalid("limitrange defaults", "/api/v1/namespaces/{ns}/limitranges",
			"apiVersion: v1\nkind: LimitRange\nmetadata: {name: @}\nspec: {limits: [{type: Container, max: {cpu: \"2\"}, min: {memory: 1Mi}}]}"),
	})
}

func TestPrepareCluster(t *testing.T) {
	const nodesPath = "/api/v1/nodes"
	runScenario(t, "prepare-cluster", []request{
		invalid("node config source and pod CIDRs", nodesPath, "apiVersion: v1\nkind: Node\nmetadata: {name: prepare-@}\n"+
			"spec: {podCIDR: 10.1.0.0/24, podCIDRs: [10.2.0.0/24], configSource: {configMap: {name: x, namespace: ns1, kubeletConfigKey: k}}}\n"+
			"status: {capacity: {cpu: \"1\"}, config: {error: x}}"),
		invalid("node duplicate addresses", nodesPath, "apiVersion: v1\nkind: Node\nmetadata: {name: prepare-@}\n"+
			"status: {addresses: [{type: InternalIP, address: 1.2.3.4}, {type: InternalIP, address: 1.2.3.4}]}"),
		{Name: "node config source on update", Method: patch, Path: nodesPath + "/prepare-node-config-source-and-pod-cidrs", ContentType: mergeP,
			Body: `{"spec":{"configSource":{"configMap":{"name":"x","namespace":"ns1","kubeletConfigKey":"k"}}}}`},
		{Name: "node duplicate addresses on status update", Method: patch, Path: nodesPath + "/prepare-node-config-source-and-pod-cidrs/status", ContentType: mergeP,
			Body: `{"status":{"addresses":[{"type":"InternalIP","address":"1.2.3.5"},{"type":"InternalIP","address":"1.2.3.5"}]}}`},
		invalid("node podCIDRs only", nodesPath, "apiVersion: v1\nkind: Node\nmetadata: {name: prepare-@}\nspec: {podCIDRs: [10.3.0.0/24]}"),
		invalid("node negative capacity", nodesPath, "apiVersion: v1\nkind: Node\nmetadata: {name: prepare-@}\nstatus: {capacity: {cpu: \"-1\"}}"),
		invalid("namespace bad finalizer", "/api/v1/namespaces", "apiVersion: v1\nkind: Namespace\nmetadata: {name: prepare-@}\nspec: {finalizers: [custom]}"),
		invalid("namespace", "/api/v1/namespaces", "apiVersion: v1\nkind: Namespace\nmetadata: {name: prepare-@}"),
		{Name: "namespace bad finalizer on finalize", Method: put, Path: "/api/v1/namespaces/prepare-namespace/finalize",
			Body: "apiVersion: v1\nkind: Namespace\nmetadata: {name: prepare-namespace}\nspec: {finalizers: [kubernetes, custom]}"},
	})
}

func TestPrepareNetworking(t *testing.T) {
	const (
		ingPath = "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses"
		ingHead = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: @, annotations: {kubernetes.io/ingress.class: "
		ingSpec = "}}\nspec: {ingressClassName: a, defaultBackend: {service: {name: s, port: {number: 80}}}}"
		epsPath = "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"
	)
	runScenario(t, "prepare-networking", []request{
		invalid("ingress class mismatch", ingPath, ingHead+"b"+ingSpec),
		invalid("ingress class match", ingPath, ingHead+"a"+ingSpec),
		{Name: "ingress class mismatch on update", Method: patch, Path: ingPath + "/ingress-class-match", ContentType: mergeP,
			Body: `{"metadata":{"annotations":{"kubernetes.io/ingress.class":"b"}}}`},
		invalid("endpointslice topology", epsPath, "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: @}\naddressType: IPv4\n"+
			"endpoints: [{addresses: [10.0.0.1], deprecatedTopology: {kubernetes.io/hostname: n1, a: b}}]"),
		{Name: "endpointslice topology on update", Method: patch, Path: epsPath + "/endpointslice-topology", ContentType: mergeP,
			Body: `{"endpoints":[{"addresses":["10.0.0.2"],"deprecatedTopology":{"kubernetes.io/hostname":"n1"}}]}`},
		{Name: "endpointslice labels bump generation", Method: patch, Path: epsPath + "/endpointslice-topology", ContentType: mergeP,
			Body: `{"metadata":{"labels":{"a":"b"}}}`},
		invalid("pdb with the v1beta1 label", pdbsPath, "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: @}\n"+
			"spec: {minAvailable: 1, selector: {matchLabels: {a: b}, matchExpressions: ["+v1beta1+"]}}"),
		invalid("pdb match none", pdbsPath, "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: @}\nspec: {minAvailable: 1, selector: {matchExpressions: ["+v1beta1+"]}}"),
		{Name: "pdb v1beta1 label on update", Method: patch, Path: pdbsPath + "/pdb-match-none", ContentType: mergeP,
			Body: `{"spec":{"selector":{"matchLabels":{"a":"b"}}}}`},
		invalid("job manual selector", "/apis/batch/v1/namespaces/{ns}/jobs", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: @}\n"+
			"spec: {manualSelector: true, selector: {matchLabels: {app: j}}, template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}"),
	})
}

// TestFinalizerNames: core's metadata validation refuses an unqualified
// finalizer that is not a standard one; apimachinery's, which some groups
// use alone, accepts it.
func TestFinalizerNames(t *testing.T) {
	const meta = "metadata: {name: @, finalizers: [custom, example.com/ok]}\n"
	runScenario(t, "finalizer-names", []request{
		invalid("configmap", "/api/v1/namespaces/{ns}/configmaps", "apiVersion: v1\nkind: ConfigMap\n"+meta),
		invalid("deployment", "/apis/apps/v1/namespaces/{ns}/deployments", "apiVersion: apps/v1\nkind: Deployment\n"+meta+
			"spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: busybox}]}}}"),
		invalid("priorityclass", "/apis/scheduling.k8s.io/v1/priorityclasses", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\n"+
			"metadata: {name: finalizer-names-@, finalizers: [custom]}\nvalue: 5"),
		invalid("namespace", "/api/v1/namespaces", "apiVersion: v1\nkind: Namespace\nmetadata: {name: finalizer-names-@, finalizers: [orphan, custom]}"),
		invalid("lease", "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases", "apiVersion: coordination.k8s.io/v1\nkind: Lease\n"+meta),
		invalid("pdb", pdbsPath, "apiVersion: policy/v1\nkind: PodDisruptionBudget\n"+meta+"spec: {minAvailable: 1}"),
		invalid("runtimeclass", "/apis/node.k8s.io/v1/runtimeclasses", "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\n"+
			"metadata: {name: finalizer-names-@, finalizers: [custom]}\nhandler: h"),
		invalid("webhook configuration", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
			"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: finalizer-names-@, finalizers: [custom]}"),
		{Name: "lease custom finalizer on update", Method: patch, Path: "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/lease", ContentType: mergeP,
			Body: `{"metadata":{"labels":{"a":"b"}}}`},
		invalid("secret", "/api/v1/namespaces/{ns}/secrets", "apiVersion: v1\nkind: Secret\nmetadata: {name: @, finalizers: [example.com/ok]}"),
		{Name: "secret custom finalizer on update", Method: patch, Path: "/api/v1/namespaces/{ns}/secrets/secret", ContentType: mergeP,
			Body: `{"metadata":{"finalizers":["example.com/ok","custom"]}}`},
	})
}

// TestPreparePriority: the Priority admission plugin (on by default in
// both servers): the priority and preemption policy of the pod's class,
// 403s for a missing class and for values that contradict the class.
func TestPreparePriority(t *testing.T) {
	const pcs = "/apis/scheduling.k8s.io/v1/priorityclasses"
	c := "spec: {containers: [{name: c, image: busybox}]"
	runScenario(t, "prepare-priority", []request{
		invalid("pod without class", podsPath, podHead+c+"}"),
		invalid("pod system class", podsPath, podHead+c+", priorityClassName: system-node-critical}"),
		invalid("pod missing class", podsPath, podHead+c+", priorityClassName: nope}"),
		invalid("pod wrong priority", podsPath, podHead+c+", priorityClassName: system-cluster-critical, priority: 5}"),
		invalid("pod priority without class", podsPath, podHead+c+", priority: 5}"),
		invalid("pod zero priority without class", podsPath, podHead+c+", priority: 0}"),
		invalid("never class", pcs, "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: diff-never-@}\nvalue: 7\npreemptionPolicy: Never"),
		invalid("pod never class", podsPath, podHead+c+", priorityClassName: diff-never-never-class}"),
		invalid("pod never class other policy", podsPath, podHead+c+", priorityClassName: diff-never-never-class, preemptionPolicy: PreemptLowerPriority}"),
		{Name: "delete never class", Method: "DELETE", Path: pcs + "/diff-never-never-class"},
	})
}

// TestPrepareDefaultClasses: the DefaultStorageClass and
// DefaultIngressClass admission plugins (on by default in both servers).
func TestPrepareDefaultClasses(t *testing.T) {
	const (
		scs  = "/apis/storage.k8s.io/v1/storageclasses"
		ics  = "/apis/networking.k8s.io/v1/ingressclasses"
		ings = "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses"
		ing  = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: @"
		back = "spec: {defaultBackend: {service: {name: s, port: {number: 80}}}"
	)
	runScenario(t, "prepare-default-classes", []request{
		invalid("pvc before a default class", pvcsPath, pvcHead+"volumeMode: Filesystem}"),
		invalid("default sc", scs, "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: diff-@, annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}}\nprovisioner: example.com/p"),
		invalid("other sc", scs, "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: diff-@, annotations: {storageclass.kubernetes.io/is-default-class: \"false\"}}\nprovisioner: example.com/p"),
		{Name: "wait for the default sc", Method: "wait", Path: scs + "/diff-default-sc"},
		invalid("pvc without class", pvcsPath, pvcHead+"volumeMode: Filesystem}"),
		invalid("pvc empty class", pvcsPath, pvcHead+"storageClassName: \"\"}"),
		invalid("pvc beta annotation", pvcsPath, "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: @, annotations: {volume.beta.kubernetes.io/storage-class: x}}\n"+
			"spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"),
		invalid("default ingressclass", ics, "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: diff-@, annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}}\nspec: {controller: example.com/c}"),
		{Name: "wait for the default ingressclass", Method: "wait", Path: ics + "/diff-default-ingressclass"},
		invalid("ingress without class", ings, ing+"}\n"+back+"}"),
		invalid("ingress with annotation", ings, ing+", annotations: {kubernetes.io/ingress.class: nginx}}\n"+back+"}"),
		invalid("ingress with class", ings, ing+"}\n"+back+", ingressClassName: other}"),
		{Name: "delete default sc", Method: "DELETE", Path: scs + "/diff-default-sc"},
		{Name: "delete other sc", Method: "DELETE", Path: scs + "/diff-other-sc"},
		{Name: "delete default ingressclass", Method: "DELETE", Path: ics + "/diff-default-ingressclass"},
	})
}
