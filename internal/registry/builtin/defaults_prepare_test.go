package builtin_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// prepared runs the row hooks the store runs before validation on obj (a
// create), or on obj against old (an update of the main resource), and
// returns obj as it would be stored. old is the stored object as given
// (defaulted only), so that it may hold what an older server stored.
func prepared(t *testing.T, resource, old, obj string) runtime.Object {
	t.Helper()
	r := row(t, resource)
	o := decodeInto(t, r, obj)
	if r.Default != nil {
		r.Default(o)
	}
	if old == "" {
		r.PrepareCreate(o)
		return o
	}
	prev := decodeInto(t, r, old)
	if r.Default != nil {
		r.Default(prev)
	}
	if r.PrepareForUpdate != nil {
		r.PrepareForUpdate(o, prev)
	}
	return o
}

// wantYAML compares got with the YAML of what upstream stores.
func wantYAML[T any](t *testing.T, got T, want string) {
	t.Helper()
	var w T
	if err := yaml.UnmarshalStrict([]byte(want), &w); err != nil {
		t.Fatalf("want: %v", err)
	}
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("(-upstream +regis):\n%s", diff)
	}
}

// Upstream's persistentvolumeclaim strategy and pkg/api/persistentvolumeclaim:
// a cross-namespace dataSourceRef is dropped (CrossNamespaceVolumeDataSource
// is off), a dataSource other than a claim or snapshot is dropped when no
// dataSourceRef is given, then each fills the other.
func TestClaimDataSources(t *testing.T) {
	const spec = "metadata: {name: c}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, "
	tests := []struct {
		name, old, obj, want string
	}{
		{name: "foreign dataSource dropped", obj: spec + "dataSource: {kind: Foo, apiGroup: example.com, name: x}}"},
		{name: "claim dataSource copied", obj: spec + "dataSource: {kind: PersistentVolumeClaim, name: x}}",
			want: "dataSource: {kind: PersistentVolumeClaim, name: x}\ndataSourceRef: {kind: PersistentVolumeClaim, name: x}"},
		{name: "dataSourceRef copied", obj: spec + "dataSourceRef: {kind: Foo, apiGroup: example.com, name: x}}",
			want: "dataSource: {kind: Foo, apiGroup: example.com, name: x}\ndataSourceRef: {kind: Foo, apiGroup: example.com, name: x}"},
		{name: "cross-namespace dataSourceRef dropped", obj: spec + "dataSourceRef: {kind: Foo, apiGroup: example.com, name: x, namespace: other}}"},
		{name: "foreign dataSource kept when the stored claim has a source",
			old:  spec + "dataSourceRef: {kind: Foo, apiGroup: example.com, name: x}}",
			obj:  spec + "dataSource: {kind: Foo, apiGroup: example.com, name: x}}",
			want: "dataSource: {kind: Foo, apiGroup: example.com, name: x}\ndataSourceRef: {kind: Foo, apiGroup: example.com, name: x}"},
		{name: "foreign dataSource dropped on update of a claim without one",
			old: spec + "}", obj: spec + "dataSource: {kind: Foo, apiGroup: example.com, name: x}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := prepared(t, "persistentvolumeclaims", tt.old, tt.obj).(*corev1.PersistentVolumeClaim).Spec
			got := corev1.PersistentVolumeClaimSpec{DataSource: s.DataSource, DataSourceRef: s.DataSourceRef}
			wantYAML(t, got, tt.want)
		})
	}
}

// SetObjectDefaults_PersistentVolume and SetObjectDefaults_Pod default the
// RBD, ISCSI, AzureDisk and ScaleIO sources.
func TestVolumeSourceDefaults(t *testing.T) {
	const pv = "metadata: {name: v}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], "
	tests := []struct {
		name, obj, want string
	}{
		{name: "rbd", obj: pv + "rbd: {monitors: [m], image: i}}",
			want: "rbd: {monitors: [m], image: i, pool: rbd, user: admin, keyring: /etc/ceph/keyring}"},
		{name: "iscsi", obj: pv + "iscsi: {targetPortal: p, iqn: q, lun: 0}}",
			want: "iscsi: {targetPortal: p, iqn: q, lun: 0, iscsiInterface: default}"},
		{name: "azureDisk", obj: pv + "azureDisk: {diskName: d, diskURI: u}}",
			want: "azureDisk: {diskName: d, diskURI: u, cachingMode: ReadWrite, fsType: ext4, readOnly: false, kind: Shared}"},
		{name: "azureDisk as sent", obj: pv + "azureDisk: {diskName: d, diskURI: u, cachingMode: None, fsType: xfs, readOnly: true, kind: Managed}}",
			want: "azureDisk: {diskName: d, diskURI: u, cachingMode: None, fsType: xfs, readOnly: true, kind: Managed}"},
		{name: "scaleIO", obj: pv + "scaleIO: {gateway: g, system: s, secretRef: {name: x}}}",
			want: "scaleIO: {gateway: g, system: s, secretRef: {name: x}, storageMode: ThinProvisioned, fsType: xfs}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := prepared(t, "persistentvolumes", "", tt.obj).(*corev1.PersistentVolume).Spec.PersistentVolumeSource
			wantYAML(t, got, tt.want)
		})
	}
	pod := prepared(t, "pods", "", "metadata: {name: p}\nspec: {containers: [{name: c, image: i}], volumes: ["+
		"{name: a, rbd: {monitors: [m], image: i}}, {name: b, iscsi: {targetPortal: p, iqn: q, lun: 0}}, "+
		"{name: c, azureDisk: {diskName: d, diskURI: u}}, {name: d, scaleIO: {gateway: g, system: s, secretRef: {name: x}}}]}").(*corev1.Pod)
	wantYAML(t, pod.Spec.Volumes, `
- {name: a, rbd: {monitors: [m], image: i, pool: rbd, user: admin, keyring: /etc/ceph/keyring}}
- {name: b, iscsi: {targetPortal: p, iqn: q, lun: 0, iscsiInterface: default}}
- {name: c, azureDisk: {diskName: d, diskURI: u, cachingMode: ReadWrite, fsType: ext4, readOnly: false, kind: Shared}}
- {name: d, scaleIO: {gateway: g, system: s, secretRef: {name: x}, storageMode: ThinProvisioned, fsType: xfs}}`)
}

// Upstream's node strategy drops the config source and the pod
// preemption policy; its conversion stores the pod CIDRs with podCIDR
// authoritative; SetDefaults_NodeStatus copies the capacity to the
// allocatable resources.
func TestNodePreparation(t *testing.T) {
	const config = "configSource: {configMap: {name: x, namespace: y, kubeletConfigKey: k}}"
	tests := []struct {
		name, old, obj, want string
	}{
		{name: "create drops the config source",
			obj:  "metadata: {name: n}\nspec: {" + config + ", podPreemptionPolicy: {}}\nstatus: {config: {error: x}, capacity: {cpu: \"1\"}}",
			want: "spec: {taints: [{key: node.kubernetes.io/not-ready, effect: NoSchedule}]}\nstatus: {capacity: {cpu: \"1\"}, allocatable: {cpu: \"1\"}}"},
		{name: "podCIDR wins", obj: "metadata: {name: n}\nspec: {podCIDR: 10.1.0.0/24, podCIDRs: [10.2.0.0/24, \"fd00::/64\"]}",
			want: "spec: {podCIDR: 10.1.0.0/24, podCIDRs: [10.1.0.0/24], taints: [{key: node.kubernetes.io/not-ready, effect: NoSchedule}]}"},
		{name: "podCIDR from podCIDRs", obj: "metadata: {name: n}\nspec: {podCIDRs: [10.2.0.0/24, \"fd00::/64\"]}",
			want: "spec: {podCIDR: 10.2.0.0/24, podCIDRs: [10.2.0.0/24, \"fd00::/64\"], taints: [{key: node.kubernetes.io/not-ready, effect: NoSchedule}]}"},
		{name: "update drops a config source the stored node has not",
			old: "metadata: {name: n}", obj: "metadata: {name: n}\nspec: {" + config + "}"},
		{name: "allocatable as sent", obj: "metadata: {name: n}\nstatus: {capacity: {cpu: \"2\"}, allocatable: {cpu: \"1\"}}",
			want: "spec: {taints: [{key: node.kubernetes.io/not-ready, effect: NoSchedule}]}\nstatus: {capacity: {cpu: \"2\"}, allocatable: {cpu: \"1\"}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := prepared(t, "nodes", tt.old, tt.obj).(*corev1.Node)
			wantYAML(t, corev1.Node{Spec: n.Spec, Status: n.Status}, tt.want)
		})
	}
	r := row(t, "nodes")
	n, old := &corev1.Node{}, &corev1.Node{}
	n.Status.Config = &corev1.NodeConfigStatus{Error: "x"}
	r.PrepareForStatusUpdate(n, old)
	if n.Status.Config != nil {
		t.Errorf("status update: status.config %v, want it dropped", n.Status.Config)
	}
}

// Upstream's PodDisruptionBudget strategy strips the v1beta1 selector
// label unless the selector is policy/v1's match-none one, or the update
// leaves the selector as stored.
func TestPodDisruptionBudgetSelectorLabel(t *testing.T) {
	const (
		label = "{key: pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match, operator: Exists}"
		head  = "metadata: {name: p}\nspec: {minAvailable: 1, selector: "
	)
	tests := []struct {
		name, old, obj, want string
	}{
		{name: "stripped", obj: head + "{matchLabels: {a: b}, matchExpressions: [" + label + ", {key: c, operator: Exists}]}}",
			want: "{matchLabels: {a: b}, matchExpressions: [{key: c, operator: Exists}]}"},
		{name: "match none kept", obj: head + "{matchExpressions: [" + label + "]}}", want: "{matchExpressions: [" + label + "]}"},
		{name: "match all kept", obj: head + "{}}", want: "{}"},
		{name: "stripped on a change", old: head + "{matchExpressions: [" + label + "]}}",
			obj: head + "{matchLabels: {a: b}, matchExpressions: [" + label + "]}}", want: "{matchLabels: {a: b}, matchExpressions: []}"},
		{name: "unchanged selector kept", old: head + "{matchExpressions: [" + label + "]}}",
			obj: head + "{matchExpressions: [" + label + "]}}", want: "{matchExpressions: [" + label + "]}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := prepared(t, "policy/poddisruptionbudgets", tt.old, tt.obj).(*policyv1.PodDisruptionBudget).Spec.Selector
			wantYAML(t, got, tt.want)
		})
	}
}

// Upstream's EndpointSlice strategy drops deprecatedTopology from v1
// writes that change the endpoints (an endpoint without a nodeName keeps
// a node name the stored slice held there), and a change of the labels
// bumps the generation.
func TestEndpointSliceTopology(t *testing.T) {
	const head = "metadata: {name: e, generation: 1}\naddressType: IPv4\nendpoints: "
	tests := []struct {
		name, old, obj, want string
	}{
		{name: "create", obj: head + "[{addresses: [10.0.0.1], deprecatedTopology: {kubernetes.io/hostname: n1}}]",
			want: "[{addresses: [10.0.0.1]}]"},
		{name: "unchanged endpoints kept", old: head + "[{addresses: [10.0.0.1], deprecatedTopology: {kubernetes.io/hostname: n1}}]",
			obj:  head + "[{addresses: [10.0.0.1], deprecatedTopology: {kubernetes.io/hostname: n1}}]",
			want: "[{addresses: [10.0.0.1], deprecatedTopology: {kubernetes.io/hostname: n1}}]"},
		{name: "stored node name taken", old: head + "[{addresses: [10.0.0.1], deprecatedTopology: {kubernetes.io/hostname: n1}}]",
			obj:  head + "[{addresses: [10.0.0.2], deprecatedTopology: {kubernetes.io/hostname: n1}}, {addresses: [10.0.0.3], deprecatedTopology: {kubernetes.io/hostname: n2}}]",
			want: "[{addresses: [10.0.0.2], nodeName: n1}, {addresses: [10.0.0.3]}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := prepared(t, "discovery.k8s.io/endpointslices", tt.old, tt.obj).(*discoveryv1.EndpointSlice).Endpoints
			wantYAML(t, got, tt.want)
		})
	}
	eps := prepared(t, "discovery.k8s.io/endpointslices", head+"[]", "metadata: {name: e, generation: 1, labels: {a: b}}\naddressType: IPv4\nendpoints: []")
	if g := eps.(*discoveryv1.EndpointSlice).Generation; g != 2 {
		t.Errorf("labels changed: generation %d, want 2", g)
	}
}

// SetDefaults_Job: a job without labels gets its template's, which then
// carry what the strategy adds for a generated selector (the same map).
func TestJobLabelsFromTemplate(t *testing.T) {
	const tmpl = "template: {metadata: {labels: {app: j}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}"
	tests := []struct {
		name, obj, want string
	}{
		{name: "manual selector", obj: "metadata: {name: j}\nspec: {manualSelector: true, selector: {matchLabels: {app: j}}, " + tmpl + "}",
			want: "{app: j}"},
		{name: "own labels", obj: "metadata: {name: j, labels: {x: y}}\nspec: {" + tmpl + "}", want: "{x: y}"},
		{name: "generated selector", obj: "metadata: {name: j, uid: u1}\nspec: {" + tmpl + "}",
			want: "{app: j, batch.kubernetes.io/controller-uid: u1, batch.kubernetes.io/job-name: j, controller-uid: u1, job-name: j}"},
		// Stored without labels: the defaults the storage decoder sets on
		// read copy the template's then (TestDefaultsMatchKubeAPIServer).
		{name: "no template labels", obj: "metadata: {name: j, uid: u1}\nspec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}",
			want: "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantYAML(t, prepared(t, "batch/jobs", "", tt.obj).(*batchv1.Job).Labels, tt.want)
		})
	}
}

// SetDefaults_Pod: a negative grace period becomes 1 (pod templates keep
// theirs).
func TestPodNegativeGracePeriod(t *testing.T) {
	p := prepared(t, "pods", "", "metadata: {name: p}\nspec: {terminationGracePeriodSeconds: -5, containers: [{name: c, image: i}]}").(*corev1.Pod)
	if g := p.Spec.TerminationGracePeriodSeconds; g == nil || *g != 1 {
		t.Errorf("terminationGracePeriodSeconds %v, want 1", g)
	}
}

// SetDefaults_LimitRangeItem: a container's default limit is its max, its
// default request the default limit, else the min.
func TestLimitRangeDefaults(t *testing.T) {
	lr := prepared(t, "limitranges", "", "metadata: {name: l}\nspec: {limits: [{type: Container, max: {cpu: \"2\"}, min: {memory: 1Mi}}, {type: Pod, max: {cpu: \"4\"}}]}")
	wantYAML(t, lr.(*corev1.LimitRange).Spec, `limits:
- {type: Container, max: {cpu: "2"}, min: {memory: 1Mi}, default: {cpu: "2"}, defaultRequest: {cpu: "2", memory: 1Mi}}
- {type: Pod, max: {cpu: "4"}}`)
}
