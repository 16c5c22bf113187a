package builtin_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// warningCase is one write: obj (YAML) created, or updated from old when
// old is set, and the warnings upstream's strategy returns for it.
type warningCase struct {
	name     string
	resource string // group/resource, or resource for core/v1
	obj, old string
	want     []string
}

func TestWarnings(t *testing.T) {
	rows := map[string]*registry.Resource{}
	for _, r := range builtin.Resources() {
		rows[strings.TrimPrefix(r.Group+"/"+r.Resource, "/")] = r
	}
	for _, group := range [][]warningCase{podWarningCases, workloadWarningCases, coreWarningCases, groupWarningCases} {
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				r := rows[tc.resource]
				if r == nil {
					t.Fatalf("no row %q", tc.resource)
				}
				var got []string
				switch obj := decodeRow(t, r, tc.obj); {
				case tc.old == "" && r.WarningsOnCreate != nil:
					got = r.PrepareCreate(obj) // as the store: pods' AppArmor warnings come from it
					got = append(got, r.WarningsOnCreate(obj)...)
				case tc.old != "" && r.WarningsOnUpdate != nil:
					got = r.WarningsOnUpdate(obj, decodeRow(t, r, tc.old))
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("warnings of %s (-want +got):\n%s", tc.name, diff)
				}
			})
		}
	}
}

// decodeRow decodes a YAML object of the row's kind and defaults it.
func decodeRow(t *testing.T, r *registry.Resource, text string) runtime.Object {
	t.Helper()
	obj := r.New()
	if err := yaml.UnmarshalStrict([]byte(text), obj); err != nil {
		t.Fatalf("decode %s: %v", r.Resource, err)
	}
	if r.Default != nil {
		r.Default(obj)
	}
	return obj
}

const ctr = "{name: c, image: busybox}"

var podWarningCases = []warningCase{
	{name: "pod without warnings", resource: "pods", obj: "metadata: {name: p}\nspec: {containers: [" + ctr + "]}"},
	{name: "pod dotted name", resource: "pods", obj: "metadata: {name: p.x}\nspec: {containers: [" + ctr + "]}",
		want: []string{`metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]`}},
	{name: "pod node labels", resource: "pods", obj: "metadata: {name: p}\nspec: {containers: [" + ctr + "], " +
		"nodeSelector: {beta.kubernetes.io/os: linux, beta.kubernetes.io/arch: amd64, a: b}, " +
		"affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {matchExpressions: [{key: k, operator: In, values: [\"a b\"]}]}}]}}, " +
		"topologySpreadConstraints: [{maxSkew: 1, topologyKey: node-role.kubernetes.io/master, whenUnsatisfiable: DoNotSchedule, labelSelector: {}}]}",
		want: []string{
			`spec.nodeSelector[beta.kubernetes.io/arch]: deprecated since v1.14; use "kubernetes.io/arch" instead`,
			`spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use "kubernetes.io/os" instead`,
			`spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values[0]: a b is invalid, ` +
				`a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character ` +
				`(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
			`spec.topologySpreadConstraints[0].topologyKey: node-role.kubernetes.io/master is use "node-role.kubernetes.io/control-plane" instead`,
		}},
	{name: "pod volumes", resource: "pods", obj: "metadata: {name: p}\nspec: {containers: [" + ctr + "], volumes: [" +
		"{name: a, photonPersistentDisk: {pdID: x}}, {name: b, scaleIO: {gateway: g, system: s, secretRef: {name: x}}}, {name: c, flocker: {datasetName: d}}, " +
		"{name: d, storageOS: {volumeName: v}}, {name: e, quobyte: {registry: r, volume: v}}, {name: f, rbd: {monitors: [m], image: i}}, " +
		"{name: g, secret: {secretName: s, items: [{key: a, path: x/}, {key: b, path: x}]}}, " +
		"{name: h, downwardAPI: {items: [{path: p, fieldRef: {fieldPath: metadata.name}}, {path: p/q, fieldRef: {fieldPath: metadata.name}}]}}, " +
		"{name: i, projected: {sources: [{}, {clusterTrustBundle: {signerName: s, path: b}}, {podCertificate: {signerName: s, keyType: RSA3072, credentialBundlePath: b}}]}}]}",
		want: []string{
			"spec.volumes[0].photonPersistentDisk: deprecated in v1.11, non-functional in v1.16+",
			"spec.volumes[1].scaleIO: deprecated in v1.16, non-functional in v1.22+",
			"spec.volumes[2].flocker: deprecated in v1.22, non-functional in v1.25+",
			"spec.volumes[3].storageOS: deprecated in v1.22, non-functional in v1.25+",
			"spec.volumes[4].quobyte: deprecated in v1.22, non-functional in v1.25+",
			"spec.volumes[5].rbd: deprecated in v1.28, non-functional in v1.31+",
			`volume "g" (Secret "s"): overlapping paths: "x" with "x"`,
			`volume "h" (DownwardAPI): overlapping paths: "p/q" with "p"`,
			`volume "i" (Projected) has no sources provided`,
			`volume "i" (Projected): overlapping paths: "b" (PodCertificate credential bundle) with "b" (ClusterTrustBundle "s")`,
		}},
	{name: "pod overhead and ports", resource: "pods", obj: "metadata: {name: p}\nspec: {overhead: {memory: 100m, ephemeral-storage: 1500m}, containers: [" +
		"{name: c, image: busybox, ports: [{containerPort: 80, hostPort: 80, hostIP: 10.0.0.1}, {containerPort: 80, hostPort: 80}, {containerPort: 80, hostPort: 80, hostIP: 10.0.0.1}]}]}",
		want: []string{
			`spec.overhead[memory]: fractional byte value "100m" is invalid, must be an integer`,
			`spec.overhead[ephemeral-storage]: fractional byte value "1500m" is invalid, must be an integer`,
			"spec.containers[0].ports[1]: dangerously ambiguous port definition with spec.containers[0].ports[0]",
			"spec.containers[0].ports[2]: duplicate port definition with spec.containers[0].ports[0]",
			"spec.containers[0].ports[2]: dangerously ambiguous port definition with spec.containers[0].ports[1]",
		}},
	{name: "pod port names and host IPs", resource: "pods", obj: "metadata: {name: p}\nspec: {initContainers: [{name: i, image: busybox, ports: [{name: http, containerPort: 81, hostIP: 10.0.0.2}]}], containers: [" +
		"{name: c, image: busybox, resources: {limits: {memory: 1500m}}, ports: [{name: http, containerPort: 82}, {name: m, containerPort: 81, hostPort: 81}]}, " +
		"{name: d, image: busybox, ports: [{name: m, containerPort: 83}, {containerPort: 81, hostPort: 81, hostIP: 10.0.0.3}]}]}",
		want: []string{
			`spec.containers[0].resources.limits[memory]: fractional byte value "1500m" is invalid, must be an integer`,
			`spec.containers[0].resources.requests[memory]: fractional byte value "1500m" is invalid, must be an integer`,
			"spec.initContainers[0].ports[0]: hostIP set without hostPort: {Name:http HostPort:0 ContainerPort:81 Protocol:TCP HostIP:10.0.0.2}",
			"spec.containers[0].ports[1]: overlapping port definition with spec.initContainers[0].ports[0]",
			"spec.containers[1].ports[1]: overlapping port definition with spec.initContainers[0].ports[0]",
			"spec.containers[1].ports[1]: dangerously ambiguous port definition with spec.containers[0].ports[1]",
			`spec.containers[0].ports[0]: duplicate port name "http" with spec.initContainers[0].ports[0], services and probes that select ports by name will use spec.initContainers[0].ports[0]`,
			`spec.containers[1].ports[0]: duplicate port name "m" with spec.containers[0].ports[1], services and probes that select ports by name will use spec.containers[0].ports[1]`,
		}},
	{name: "pod env references", resource: "pods", obj: "metadata: {name: p}\nspec: {containers: [{name: c, image: busybox, env: [" +
		"{name: A, value: \"1\"}, {name: A, value: \"$(A)2\"}, {name: A, value: \"$(A)\"}, {name: A, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}]}",
		want: []string{
			`spec.containers[0].env[2]: hides previous definition of "A", which may be dropped when using apply`,
			`spec.containers[0].env[3]: hides previous definition of "A", which may be dropped when using apply`,
		}},
	{name: "pod seccomp field", resource: "pods", obj: "metadata: {name: p, annotations: {seccomp.security.alpha.kubernetes.io/pod: x, " +
		"container.seccomp.security.alpha.kubernetes.io/c: x}}\nspec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, " +
		"containers: [{name: c, image: busybox, securityContext: {seccompProfile: {type: RuntimeDefault}}}]}"},
	{name: "pod apparmor annotation", resource: "pods", obj: "metadata: {name: p, annotations: {" +
		"container.apparmor.security.beta.kubernetes.io/c: runtime/default, container.apparmor.security.beta.kubernetes.io/d: unconfined, " +
		"container.apparmor.security.beta.kubernetes.io/e: \"localhost/ x\"}}\nspec: {securityContext: {appArmorProfile: {type: RuntimeDefault}}, " +
		"containers: [" + ctr + ", {name: d, image: busybox}, {name: e, image: busybox}]}",
		want: []string{
			`metadata.annotations[container.apparmor.security.beta.kubernetes.io/d]: deprecated since v1.30; use the "appArmorProfile" field instead`,
			`metadata.annotations[container.apparmor.security.beta.kubernetes.io/e]: deprecated since v1.30; use the "appArmorProfile" field instead`,
		}},
	{name: "windows pod apparmor annotation", resource: "pods", obj: "metadata: {name: p, annotations: {container.apparmor.security.beta.kubernetes.io/c: unconfined}}\n" +
		"spec: {os: {name: windows}, containers: [" + ctr + "]}"},
	{name: "pod update", resource: "pods", obj: "metadata: {name: p.x}\nspec: {containers: [" + ctr + "]}", old: "metadata: {name: p.x}"},
	{name: "pod template", resource: "podtemplates", obj: "metadata: {name: t}\ntemplate: {metadata: {annotations: " +
		"{container.apparmor.security.beta.kubernetes.io/c: runtime/default, security.alpha.kubernetes.io/sysctls: a}}, " +
		"spec: {securityContext: {appArmorProfile: {type: Unconfined}}, containers: [" + ctr + "]}}",
		want: []string{
			`template.metadata.annotations[security.alpha.kubernetes.io/sysctls]: non-functional in v1.11+; use the "sysctls" field instead`,
			`template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]: deprecated since v1.30; use the "appArmorProfile" field instead`,
		}},
	{name: "pod template matching apparmor", resource: "podtemplates", obj: "metadata: {name: t}\ntemplate: {metadata: {annotations: " +
		"{container.apparmor.security.beta.kubernetes.io/c: runtime/default}}, spec: {securityContext: {appArmorProfile: {type: RuntimeDefault}}, containers: [" + ctr + "]}}"},
	{name: "pod template same generation", resource: "podtemplates",
		obj: "metadata: {name: t, generation: 1}\ntemplate: {spec: {nodeSelector: {beta.kubernetes.io/os: linux}, containers: [" + ctr + "]}}",
		old: "metadata: {name: t, generation: 1}"},
	{name: "pod template new generation", resource: "podtemplates",
		obj:  "metadata: {name: t, generation: 2}\ntemplate: {spec: {nodeSelector: {beta.kubernetes.io/os: linux}, containers: [" + ctr + "]}}",
		old:  "metadata: {name: t, generation: 1}",
		want: []string{`template.spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use "kubernetes.io/os" instead`}},
}

const (
	sel      = "selector: {matchLabels: {a: b}}, "
	tmpl     = "template: {metadata: {labels: {a: b}}, spec: {nodeSelector: {beta.kubernetes.io/os: linux}, containers: [" + ctr + "]}}"
	osLabel  = `deprecated since v1.14; use "kubernetes.io/os" instead`
	dnsLabel = "metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]"
)

var workloadWarningCases = []warningCase{
	{name: "deployment", resource: "apps/deployments", obj: "metadata: {name: d.x}\nspec: {" + sel + tmpl + "}",
		want: []string{dnsLabel, "spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "deployment same generation", resource: "apps/deployments",
		obj: "metadata: {name: d, generation: 1}\nspec: {" + sel + tmpl + "}", old: "metadata: {name: d, generation: 1}"},
	{name: "deployment new generation", resource: "apps/deployments",
		obj: "metadata: {name: d.x, generation: 2}\nspec: {" + sel + tmpl + "}", old: "metadata: {name: d.x, generation: 1}",
		want: []string{"spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "replicaset", resource: "apps/replicasets", obj: "metadata: {name: r.x}\nspec: {" + sel + tmpl + "}",
		want: []string{dnsLabel, "spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "replicaset new generation", resource: "apps/replicasets",
		obj: "metadata: {name: r, generation: 3}\nspec: {" + sel + tmpl + "}", old: "metadata: {name: r, generation: 2}",
		want: []string{"spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "daemonset name is not checked", resource: "apps/daemonsets", obj: "metadata: {name: d.x}\nspec: {" + sel + tmpl + "}",
		want: []string{"spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "daemonset same template generation", resource: "apps/daemonsets",
		obj: "metadata: {name: d, generation: 2, annotations: {deprecated.daemonset.template.generation: \"1\"}}\nspec: {" + sel + tmpl + "}",
		old: "metadata: {name: d, generation: 1, annotations: {deprecated.daemonset.template.generation: \"1\"}}"},
	{name: "daemonset new template generation", resource: "apps/daemonsets",
		obj:  "metadata: {name: d, annotations: {deprecated.daemonset.template.generation: \"2\"}}\nspec: {" + sel + tmpl + "}",
		old:  "metadata: {name: d, annotations: {deprecated.daemonset.template.generation: \"1\"}}",
		want: []string{"spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "statefulset", resource: "apps/statefulsets", obj: "metadata: {name: s.x}\nspec: {revisionHistoryLimit: -1, " + sel + tmpl +
		", volumeClaimTemplates: [{metadata: {name: v}, spec: {resources: {requests: {storage: 1500m}}}}]}",
		want: []string{
			"spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel,
			`spec.volumeClaimTemplates[0].resources.requests[storage]: fractional byte value "1500m" is invalid, must be an integer`,
			"spec.revisionHistoryLimit: a negative value retains all historical revisions; a value >= 0 is recommended",
		}},
	{name: "statefulset update", resource: "apps/statefulsets",
		obj: "metadata: {name: s, generation: 1}\nspec: {" + sel + tmpl +
			", volumeClaimTemplates: [{metadata: {name: v}, spec: {resources: {limits: {storage: 1500m}}}}]}",
		old:  "metadata: {name: s, generation: 1}",
		want: []string{`spec.volumeClaimTemplates[0].Spec.resources.limits[storage]: fractional byte value "1500m" is invalid, must be an integer`}},
	{name: "job", resource: "batch/jobs", obj: "metadata: {name: j.x}\nspec: {completionMode: Indexed, completions: 100001, parallelism: 10001, " + tmpl + "}",
		want: []string{dnsLabel,
			"spec: In Indexed Jobs with a number of completions higher than 10^5 and a parallelism higher than 10^4, " +
				"Kubernetes might not be able to track completedIndexes when a big number of indexes fail",
			"spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "job same generation", resource: "batch/jobs", obj: "metadata: {name: j, generation: 1}\nspec: {" + tmpl + "}",
		old: "metadata: {name: j, generation: 1}"},
	{name: "cronjob", resource: "batch/cronjobs", obj: "metadata: {name: c.x}\nspec: {schedule: \"* * * * *\", jobTemplate: {spec: {" + tmpl + "}}}",
		want: []string{dnsLabel, "spec.jobTemplate.spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "cronjob stored with a time zone", resource: "batch/cronjobs",
		obj: "metadata: {name: c, generation: 1}\nspec: {schedule: \"TZ=UTC * * * * *\", jobTemplate: {spec: {" + tmpl + "}}}",
		old: "metadata: {name: c, generation: 1}",
		want: []string{"cannot use TZ or CRON_TZ in spec.spec.schedule, use timeZone instead, " +
			"see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details"}},
	{name: "replication controller", resource: "replicationcontrollers", obj: "metadata: {name: r.x}\nspec: {selector: {a: b}, " + tmpl + "}",
		want: []string{dnsLabel, "spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
	{name: "replication controller warns about its old template", resource: "replicationcontrollers",
		obj:  "metadata: {name: r, generation: 2}\nspec: {selector: {a: b}, template: {metadata: {labels: {a: b}}, spec: {containers: [" + ctr + "]}}}",
		old:  "metadata: {name: r, generation: 1}\nspec: {selector: {a: b}, " + tmpl + "}",
		want: []string{"spec.template.spec.nodeSelector[beta.kubernetes.io/os]: " + osLabel}},
}

const enforce = "metadata.annotations[kubernetes.io/enforce-mountable-secrets]: deprecated in v1.32+; prefer separate namespaces to isolate access to mounted secrets"

var coreWarningCases = []warningCase{
	{name: "service", resource: "services", obj: "metadata: {name: s}\nspec: {clusterIP: \"2001:DB8::1\", clusterIPs: [\"2001:DB8::1\"], " +
		"externalIPs: [\"::ffff:1.2.3.4\"], externalName: x, trafficDistribution: PreferClose, ports: [{port: 80}]}",
		want: []string{
			`spec.clusterIPs[0]: IPv6 address "2001:DB8::1" should be in RFC 5952 canonical format ("2001:db8::1")`,
			`spec.externalIPs[0]: non-standard IP address "::ffff:1.2.3.4" is invalid: use "1.2.3.4"`,
			"spec.externalIPs is deprecated and may no longer be implemented in some clusters",
			`spec.externalName is ignored when spec.type is not "ExternalName"`,
			`spec.trafficDistribution: "PreferClose" is deprecated; use "PreferSameZone"`,
		}},
	{name: "headless service update", resource: "services", obj: "metadata: {name: s}\nspec: {clusterIP: None, loadBalancerIP: 1.2.3.4, " +
		"externalIPs: [1.2.3.4], sessionAffinity: ClientIP, ports: [{port: 80}]}", old: "metadata: {name: s}",
		want: []string{
			"spec.loadBalancerIP is ignored for headless services",
			"spec.externalIPs is ignored for headless services",
			"spec.SessionAffinity is ignored for headless services",
		}},
	{name: "endpoints", resource: "endpoints", obj: "metadata: {name: e}\nsubsets: [{addresses: [{ip: \"2001:DB8::1\"}], notReadyAddresses: [{ip: 1.2.3.4}]}]",
		want: []string{`subsets[0].addresses[0].ip: IPv6 address "2001:DB8::1" should be in RFC 5952 canonical format ("2001:db8::1")`}},
	{name: "endpoints of the controller", resource: "endpoints",
		obj: "metadata: {name: e, labels: {endpoints.kubernetes.io/managed-by: endpoint-controller}}\nsubsets: [{addresses: [{ip: \"2001:DB8::1\"}]}]"},
	{name: "node", resource: "nodes", obj: "metadata: {name: n}\nspec: {configSource: {configMap: {name: c, namespace: n, kubeletConfigKey: k}}, " +
		"externalID: x, podCIDRs: [10.0.0.1/8]}",
		want: []string{ // no configSource warning: PrepareForCreate drops it first
			"spec.externalID: this field is deprecated, and is unused by Kubernetes",
			`spec.podCIDRs[0]: CIDR value "10.0.0.1/8" is ambiguous in this context (should be "10.0.0.0/8" or "10.0.0.1/32"?)`,
		}},
	{name: "tls secret", resource: "secrets", obj: "metadata: {name: s}\ntype: kubernetes.io/tls\ndata: {tls.crt: YQ==, tls.key: YQ==}",
		want: []string{"tls: failed to find any PEM data in certificate input"}},
	{name: "opaque secret", resource: "secrets", obj: "metadata: {name: s}\ndata: {tls.crt: YQ==}"},
	{name: "service account", resource: "serviceaccounts", obj: "metadata: {name: s, annotations: {kubernetes.io/enforce-mountable-secrets: \"true\"}}",
		want: []string{enforce}},
	{name: "service account keeps the annotation", resource: "serviceaccounts",
		obj: "metadata: {name: s, annotations: {kubernetes.io/enforce-mountable-secrets: \"true\"}}",
		old: "metadata: {name: s, annotations: {kubernetes.io/enforce-mountable-secrets: \"true\"}}"},
	{name: "service account sets the annotation", resource: "serviceaccounts",
		obj: "metadata: {name: s, annotations: {kubernetes.io/enforce-mountable-secrets: \"true\"}}", old: "metadata: {name: s}",
		want: []string{enforce}},
	{name: "persistent volume", resource: "persistentvolumes", obj: "metadata: {name: v, annotations: {volume.beta.kubernetes.io/mount-options: a}}\n" +
		"spec: {persistentVolumeReclaimPolicy: Recycle, cephfs: {monitors: [m]}, nodeAffinity: {required: {nodeSelectorTerms: " +
		"[{matchExpressions: [{key: beta.kubernetes.io/os, operator: In, values: [\"a b\"]}]}]}}}",
		want: []string{
			`metadata.annotations[volume.beta.kubernetes.io/mount-options]: deprecated since v1.31; use "mountOptions" attribute instead`,
			"spec.persistentVolumeReclaimPolicy: The Recycle reclaim policy is deprecated. Instead, the recommended approach is to use dynamic provisioning.",
			"spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key: beta.kubernetes.io/os is " + osLabel,
			"spec.cephfs: deprecated in v1.28, non-functional in v1.31+",
		}},
	{name: "persistent volume claim update", resource: "persistentvolumeclaims",
		obj: "metadata: {name: c, annotations: {volume.beta.kubernetes.io/storage-class: a}}\nspec: {resources: {limits: {storage: 1500m}}}",
		old: "metadata: {name: c}",
		want: []string{
			`metadata.annotations[volume.beta.kubernetes.io/storage-class]: deprecated since v1.8; use "storageClassName" attribute instead`,
			`spec.resources.limits[storage]: fractional byte value "1500m" is invalid, must be an integer`,
		}},
	{name: "resource quota", resource: "resourcequotas", obj: "metadata: {name: q}\nspec: {hard: {requests.cpu: \"2\", cpu: \"3\", limits.cpu: \"1\", " +
		"memory: 2Gi, limits.memory: 1Gi, requests.ephemeral-storage: 2Gi, limits.ephemeral-storage: 1Gi}}",
		want: []string{
			"ResourceQuota requests.cpu (2) should be less than limits.cpu (1)",
			"ResourceQuota memory (2Gi) should be less than limits.memory (1Gi)",
			"ResourceQuota requests.ephemeral-storage (2Gi) should be less than limits.ephemeral-storage (1Gi)",
		}},
	{name: "resource quota update", resource: "resourcequotas", obj: "metadata: {name: q}\nspec: {hard: {cpu: \"3\", limits.cpu: \"1\"}}",
		old: "metadata: {name: q}"},
}

const excluded = " is excluded from admission webhooks; this rule will have no effect"

var groupWarningCases = []warningCase{
	{name: "fqdn endpoint slice", resource: "discovery.k8s.io/endpointslices", obj: "metadata: {name: e}\naddressType: FQDN\nendpoints: [{addresses: [a.example]}]",
		want: []string{"spec.addressType: FQDN endpoints are deprecated"}},
	{name: "endpoint slice update", resource: "discovery.k8s.io/endpointslices", old: "metadata: {name: e}\naddressType: IPv6",
		obj:  "metadata: {name: e}\naddressType: IPv6\nendpoints: [{addresses: [\"2001:DB8::1\"]}]",
		want: []string{`endpoints[0].addresses[0]: IPv6 address "2001:DB8::1" should be in RFC 5952 canonical format ("2001:db8::1")`}},
	{name: "endpoint slice of the controller", resource: "discovery.k8s.io/endpointslices",
		obj: "metadata: {name: e, labels: {endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}}\naddressType: IPv6\nendpoints: [{addresses: [\"2001:DB8::1\"]}]"},
	{name: "ingress class annotation", resource: "networking.k8s.io/ingresses", obj: "metadata: {name: i, annotations: {kubernetes.io/ingress.class: a}}",
		want: []string{`annotation "kubernetes.io/ingress.class" is deprecated, please use 'spec.ingressClassName' instead`}},
	{name: "ingress class annotation and name", resource: "networking.k8s.io/ingresses",
		obj: "metadata: {name: i, annotations: {kubernetes.io/ingress.class: a}}\nspec: {ingressClassName: a}"},
	{name: "network policy update", resource: "networking.k8s.io/networkpolicies", old: "metadata: {name: n}",
		obj:  "metadata: {name: n}\nspec: {egress: [{to: [{podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.1/16]}}]}]}",
		want: []string{`spec.egress[0].to[1].ipBlock.except[0]: CIDR value "10.1.0.1/16" is ambiguous in this context (should be "10.1.0.0/16" or "10.1.0.1/32"?)`}},
	{name: "storage class", resource: "storage.k8s.io/storageclasses", obj: "metadata: {name: s}\nprovisioner: p\n" +
		"allowedTopologies: [{matchLabelExpressions: [{key: a, values: [b]}, {key: failure-domain.beta.kubernetes.io/region, values: [b]}]}]",
		want: []string{`allowedTopologies[0].matchLabelExpressions[1].key: deprecated since v1.17; use "topology.kubernetes.io/region" instead`}},
	{name: "csi driver", resource: "storage.k8s.io/csidrivers", obj: "metadata: {name: d}\nspec: {tokenRequests: [{audience: a}]}",
		want: []string{"spec.serviceAccountTokenInSecrets is unset; if supported by this CSI driver, set to true to prevent possible logging of tokens in volume attributes"}},
	{name: "csi driver with token secrets", resource: "storage.k8s.io/csidrivers",
		obj: "metadata: {name: d}\nspec: {tokenRequests: [{audience: a}], serviceAccountTokenInSecrets: true}"},
	{name: "csi driver same token requests", resource: "storage.k8s.io/csidrivers",
		obj: "metadata: {name: d}\nspec: {tokenRequests: [{audience: a}]}", old: "metadata: {name: d}\nspec: {tokenRequests: [{audience: a}]}"},
	{name: "csi storage capacity", resource: "storage.k8s.io/csistoragecapacities", obj: "metadata: {name: c}\nstorageClassName: s\n" +
		"nodeTopology: {matchLabels: {failure-domain.beta.kubernetes.io/zone: a, app.kubernetes.io/created-by: b}}",
		want: []string{
			"nodeTopology.matchLabels.app.kubernetes.io/created-by: deprecated since v1.9",
			`nodeTopology.matchLabels.failure-domain.beta.kubernetes.io/zone: deprecated since v1.17; use "topology.kubernetes.io/zone" instead`,
		}},
	{name: "runtime class update", resource: "node.k8s.io/runtimeclasses", old: "metadata: {name: r}\nhandler: h",
		obj:  "metadata: {name: r}\nhandler: h\nscheduling: {nodeSelector: {beta.kubernetes.io/instance-type: a}}",
		want: []string{`scheduling.nodeSelector: deprecated since v1.17; use "node.kubernetes.io/instance-type" instead`}},
	{name: "resource slice", resource: "resource.k8s.io/resourceslices", obj: "metadata: {name: s}\nspec: {driver: Example.com}",
		want: []string{`spec.driver: driver names should be lowercase; "Example.com" contains uppercase characters`}},
	{name: "validating webhooks", resource: "admissionregistration.k8s.io/validatingwebhookconfigurations",
		obj: "metadata: {name: w}\nwebhooks: [{name: a, rules: [{apiGroups: [authorization.k8s.io, authorization.k8s.io], " +
			"resources: [selfsubjectrulesreviews, localsubjectaccessreviews, pods]}, {apiGroups: [\"*\"], resources: [selfsubjectrulesreviews]}]}, " +
			"{name: b, rules: [{apiGroups: [authentication.k8s.io], resources: [selfsubjectreviews, \"*\"]}, {apiGroups: [authentication.k8s.io], resources: [selfsubjectreviews]}]}]",
		want: []string{
			"webhooks[0].rules[0]: selfsubjectrulesreviews.authorization.k8s.io" + excluded,
			"webhooks[0].rules[0]: localsubjectaccessreviews.authorization.k8s.io" + excluded,
			"webhooks[1].rules[1]: selfsubjectreviews.authentication.k8s.io" + excluded,
		}},
	{name: "mutating webhooks update", resource: "admissionregistration.k8s.io/mutatingwebhookconfigurations",
		obj:  "metadata: {name: w.static.k8s.io}\nwebhooks: [{name: a, rules: [{apiGroups: [authentication.k8s.io], resources: [tokenreviews]}]}]",
		old:  "metadata: {name: w.static.k8s.io}",
		want: []string{staticSuffix, "webhooks[0].rules[0]: tokenreviews.authentication.k8s.io" + excluded}},
	{name: "admission policy update", resource: "admissionregistration.k8s.io/validatingadmissionpolicies",
		obj: "metadata: {name: p.static.k8s.io}", old: "metadata: {name: p.static.k8s.io}", want: []string{staticSuffix}},
	{name: "admission policy binding create", resource: "admissionregistration.k8s.io/mutatingadmissionpolicybindings",
		obj: "metadata: {name: p.static.k8s.io}"},
}

const staticSuffix = `metadata.name: names ending with ".static.k8s.io" are reserved for static manifest-based configurations and cannot be managed via the API`
