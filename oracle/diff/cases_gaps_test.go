//go:build oracle

package diff

import "testing"

// Differences from kube-apiserver found on the way by earlier work, each
// kept here once fixed: Indexed jobs' names, stateful sets' claim
// templates, services' traffic policy, IP families and node ports,
// defaults of downward API and ephemeral volumes, AppArmor annotations,
// pod volume sources and the warnings of status updates.
//
// Two body differences remain: a stateful set read back from storage has
// claim templates without apiVersion and kind (protobuf drops them;
// upstream's conversion sets them again, regis's codec does not), and a
// pod refused for a bad AppArmor annotation lacks the warning upstream's
// PrepareForCreate adds before validation (regis's rows warn only after).

func TestGapsJobs(t *testing.T) {
	const jobs = "/apis/batch/v1/namespaces/{ns}/jobs"
	job := func(name, spec string) string {
		return "apiVersion: batch/v1\nkind: Job\nmetadata: {name: " + name + "}\nspec: {" + spec +
			"template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}"
	}
	runScenario(t, "gaps-jobs", []request{
		{Name: "indexed job dotted name", Method: post, Path: jobs, Body: job("job.x", "completionMode: Indexed, completions: 2, ")},
		{Name: "indexed job long name", Method: post, Path: jobs, Body: job("j123456789012345678901234567890123456789012345678901234567890", "completionMode: Indexed, completions: 2, ")},
		{Name: "non-indexed dotted name", Method: post, Path: jobs, Body: job("job.y", "")},
	})
}

func TestGapsStatefulSets(t *testing.T) {
	const sts = "/apis/apps/v1/namespaces/{ns}/statefulsets"
	runScenario(t, "gaps-statefulsets", []request{
		{Name: "claim templates", Method: post, Path: sts, Body: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: sts}\n" +
			"spec: {serviceName: s, selector: {matchLabels: {app: w}}, template: {metadata: {labels: {app: w}}, spec: {containers: [{name: c, image: busybox}]}}, " +
			"volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]}"},
		{Name: "get", Method: get, Path: sts + "/sts"},
	})
}

func TestGapsServices(t *testing.T) {
	const (
		svcs = "/api/v1/namespaces/{ns}/services"
		svc  = "apiVersion: v1\nkind: Service\nmetadata: {name: @}\nspec: "
	)
	runScenario(t, "gaps-services", []request{
		invalid("cluster ip external ips cluster policy", svcs, svc+"{externalIPs: [1.2.3.4], externalTrafficPolicy: Cluster, ports: [{port: 80}]}"),
		invalid("cluster ip external ips local policy", svcs, svc+"{externalIPs: [1.2.3.4], externalTrafficPolicy: Local, ports: [{port: 80}]}"),
		invalid("cluster ip external ips", svcs, svc+"{externalIPs: [1.2.3.4], ports: [{port: 80}]}"),
		invalid("headless external ips", svcs, svc+"{clusterIP: None, externalIPs: [1.2.3.4], ports: [{port: 80}]}"),
		invalid("cluster ip policy without external ips", svcs, svc+"{externalTrafficPolicy: Cluster, ports: [{port: 80}]}"),
		invalid("load balancer without node ports", svcs, svc+"{type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{port: 80}]}"),
		invalid("load balancer without node ports but one", svcs, svc+"{type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{port: 80, nodePort: 31911}, {name: b, port: 81}]}"),
		invalid("headless without selector single stack", svcs, svc+"{clusterIP: None, ipFamilyPolicy: SingleStack, ports: [{port: 80}]}"),
		invalid("headless with selector", svcs, svc+"{clusterIP: None, selector: {app: a}, ports: [{port: 80}]}"),
		invalid("require dual stack", svcs, svc+"{ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]}"),
		invalid("prefer dual stack", svcs, svc+"{ipFamilyPolicy: PreferDualStack, ports: [{port: 80}]}"),
		invalid("ipv6 family", svcs, svc+"{ipFamilies: [IPv6], ports: [{port: 80}]}"),
		invalid("ipv6 cluster ip", svcs, svc+"{clusterIP: \"2001:db8::1\", ports: [{port: 80}]}"),
		invalid("single stack two families", svcs, svc+"{ipFamilyPolicy: SingleStack, ipFamilies: [IPv4, IPv6], ports: [{port: 80}]}"),
		invalid("bad family", svcs, svc+"{ipFamilies: [IPv5], ports: [{port: 80}]}"),
		invalid("local load balancer", svcs, svc+"{type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 31913, ports: [{port: 80, nodePort: 31915}]}"),
		invalid("node port with health check port", svcs, svc+"{type: NodePort, healthCheckNodePort: 31916, ports: [{port: 80, nodePort: 31917}]}"),
		invalid("bad traffic policy", svcs, svc+"{type: NodePort, externalTrafficPolicy: Nowhere, ports: [{port: 80, nodePort: 31918}]}"),
		invalid("allocate node ports on cluster ip", svcs, svc+"{allocateLoadBalancerNodePorts: true, ports: [{port: 80}]}"),
		invalid("shared node port", svcs, svc+"{type: NodePort, ports: [{name: a, port: 53, protocol: TCP, nodePort: 31919}, {name: b, port: 53, protocol: UDP}]}"),
		invalid("node port taken", svcs, svc+"{type: NodePort, ports: [{port: 80, nodePort: 31919}]}"),
		invalid("session affinity none with config", svcs, svc+"{sessionAffinity: None, sessionAffinityConfig: {clientIP: {timeoutSeconds: 5}}, ports: [{port: 80}]}"),
		invalid("session affinity client ip without timeout", svcs, svc+"{sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {}}, ports: [{port: 80}]}"),
		{Name: "local load balancer goes cluster", Method: patch, Path: svcs + "/local-load-balancer", ContentType: mergeP,
			Body: `{"spec":{"externalTrafficPolicy":"Cluster","healthCheckNodePort":null}}`},
		{Name: "load balancer turns node ports on", Method: patch, Path: svcs + "/load-balancer-without-node-ports", ContentType: mergeP,
			Body: `{"spec":{"allocateLoadBalancerNodePorts":true,"ports":[{"port":80,"nodePort":31912}]}}`},
	})
}

func TestGapsDefaults(t *testing.T) {
	pod := func(name, spec string) request { return invalid(name, podsPath, podHead+"spec: "+spec) }
	const ctr = "containers: [{name: c, image: busybox}]"
	runScenario(t, "gaps-defaults", []request{
		pod("projected downward api", "{"+ctr+", volumes: [{name: p, projected: {sources: [{downwardAPI: {items: [{path: nm, fieldRef: {fieldPath: metadata.name}}]}}]}}]}"),
		pod("downward api volume", "{"+ctr+", volumes: [{name: d, downwardAPI: {items: [{path: nm, fieldRef: {fieldPath: metadata.name}}]}}]}"),
		pod("env field ref", "{containers: [{name: c, image: busybox, env: [{name: A, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}]}"),
		pod("env file key ref", "{containers: [{name: c, image: busybox, env: [{name: A, valueFrom: {fileKeyRef: {volumeName: v, path: p, key: k}}}]}], volumes: [{name: v, emptyDir: {}}]}"),
		pod("ephemeral volume mode", "{"+ctr+", volumes: [{name: e, ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}}}]}"),
	})
}

func TestGapsAppArmor(t *testing.T) {
	pod := func(name, annotations, spec string) request {
		return invalid(name, podsPath, "apiVersion: v1\nkind: Pod\nmetadata: {name: @, annotations: "+annotations+"}\nspec: "+spec)
	}
	const key = "container.apparmor.security.beta.kubernetes.io/c"
	runScenario(t, "gaps-apparmor", []request{
		pod("runtime default", "{"+key+": runtime/default}", "{containers: [{name: c, image: busybox}]}"),
		pod("localhost", "{"+key+": localhost/prof}", "{containers: [{name: c, image: busybox}]}"),
		pod("unconfined", "{"+key+": unconfined}", "{containers: [{name: c, image: busybox}]}"),
		pod("pod profile set", "{"+key+": unconfined}", "{securityContext: {appArmorProfile: {type: Unconfined}}, containers: [{name: c, image: busybox}]}"),
		pod("container profile set", "{"+key+": runtime/default}", "{containers: [{name: c, image: busybox, securityContext: {appArmorProfile: {type: RuntimeDefault}}}]}"),
		pod("init container", "{container.apparmor.security.beta.kubernetes.io/i: runtime/default}",
			"{initContainers: [{name: i, image: busybox}], containers: [{name: c, image: busybox}]}"),
		pod("pod field only", "{}", "{securityContext: {appArmorProfile: {type: RuntimeDefault}}, containers: [{name: c, image: busybox}]}"),
		pod("bad value", "{"+key+": bogus}", "{containers: [{name: c, image: busybox}]}"),
		pod("no such container", "{container.apparmor.security.beta.kubernetes.io/z: unconfined}", "{containers: [{name: c, image: busybox}]}"),
		pod("field and annotation differ", "{"+key+": unconfined}", "{containers: [{name: c, image: busybox, securityContext: {appArmorProfile: {type: RuntimeDefault}}}]}"),
		pod("pod profile differs", "{"+key+": runtime/default}", "{securityContext: {appArmorProfile: {type: Unconfined}}, containers: [{name: c, image: busybox}]}"),
		pod("localhost without profile", "{}", "{securityContext: {appArmorProfile: {type: Localhost}}, containers: [{name: c, image: busybox}]}"),
		pod("padded localhost", "{"+key+": \"localhost/ p\"}", "{containers: [{name: c, image: busybox}]}"),
		{Name: "annotation added", Method: patch, Path: podsPath + "/pod-field-only", ContentType: mergeP,
			Body: `{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/c":"unconfined"}}}`},
		{Name: "annotation changed", Method: patch, Path: podsPath + "/runtime-default", ContentType: mergeP,
			Body: `{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/c":"unconfined"}}}`},
		invalid("deployment template", "/apis/apps/v1/namespaces/{ns}/deployments", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: @}\n"+
			"spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}, annotations: {"+key+": bogus}}, spec: {containers: [{name: c, image: busybox}]}}}"),
	})
}

func TestGapsPodVolumes(t *testing.T) {
	pod := func(name, vol string) request {
		return invalid(name, podsPath, podHead+"spec: {containers: [{name: c, image: busybox}], volumes: [{name: v, "+vol+"}]}")
	}
	runScenario(t, "gaps-pod-volumes", []request{
		pod("azure disk without uri", "azureDisk: {diskName: d, diskURI: \"\"}"),
		pod("rbd without monitors", "rbd: {monitors: [], image: i}"),
		pod("iscsi without portal", "iscsi: {targetPortal: \"\", iqn: \"iqn.2015-02.example.com:test\", lun: 0}"),
		pod("nfs relative path", "nfs: {server: s, path: p}"),
		pod("fc without wwns", "fc: {lun: 1}"),
		pod("cinder without id", "cinder: {volumeID: \"\"}"),
		pod("flocker both", "flocker: {datasetName: a, datasetUUID: b}"),
		pod("quobyte", "quobyte: {registry: \"\", volume: \"\"}"),
		pod("azure file", "azureFile: {secretName: \"\", shareName: \"\"}"),
		pod("vsphere", "vsphereVolume: {volumePath: \"\"}"),
		pod("photon", "photonPersistentDisk: {pdID: \"\"}"),
		pod("portworx", "portworxVolume: {volumeID: \"\"}"),
		pod("scaleio", "scaleIO: {gateway: \"\", system: \"\", secretRef: {name: \"\"}}"),
		pod("storageos", "storageos: {volumeName: \"\"}"),
		pod("flex", "flexVolume: {driver: \"\"}"),
		pod("gce pd", "gcePersistentDisk: {pdName: \"\"}"),
		pod("aws ebs", "awsElasticBlockStore: {volumeID: \"\"}"),
		pod("cephfs", "cephfs: {monitors: []}"),
		pod("glusterfs", "glusterfs: {endpoints: \"\", path: \"\"}"),
		pod("csi", "csi: {driver: \"\"}"),
		pod("csi secret", "csi: {driver: x.example.com, nodePublishSecretRef: {name: A_B}}"),
		pod("two sources", "emptyDir: {}, hostPath: {path: /x}, rbd: {monitors: [], image: i}"),
		pod("host path type", "hostPath: {path: /x/../y, type: Bogus}"),
		pod("git repo", "gitRepo: {repository: \"\", directory: /abs}"),
		pod("secret", "secret: {secretName: \"\", defaultMode: 1000, items: [{key: \"\", path: ..x}, {key: k, path: /abs, mode: -1}]}"),
		pod("config map", "configMap: {name: \"\", items: [{key: k, path: a/../b}]}"),
		pod("downward api", "downwardAPI: {items: [{path: a, fieldRef: {fieldPath: spec.nodeName}}, {path: b, fieldRef: {fieldPath: \"metadata.labels['a b']\"}}, "+
			"{path: c}, {path: d, resourceFieldRef: {resource: limits.cpu}}, {path: e, fieldRef: {apiVersion: v2, fieldPath: metadata.name}}, {path: f, fieldRef: {fieldPath: spec.bogus}}]}"),
		pod("projected", "projected: {sources: [{secret: {name: s, items: [{key: a, path: p}]}}, {configMap: {name: c, items: [{key: a, path: p}]}}, "+
			"{serviceAccountToken: {path: \"\", expirationSeconds: 60}}, {secret: {name: s}, configMap: {name: c}}, {downwardAPI: {items: [{path: p, fieldRef: {fieldPath: metadata.name}}]}}]}"),
		pod("projected trust bundle", "projected: {sources: [{clusterTrustBundle: {name: \"a:b\", path: t}}, {clusterTrustBundle: {signerName: bad, path: u}}, {clusterTrustBundle: {path: v}}]}"),
		pod("projected pod certificate", "projected: {sources: [{podCertificate: {signerName: kubernetes.io/x, keyType: RSA1, maxExpirationSeconds: 100000}}]}"),
		pod("ephemeral without template", "ephemeral: {}"),
		pod("ephemeral claim", "ephemeral: {volumeClaimTemplate: {metadata: {labels: {\"a b\": c}}, spec: {accessModes: []}}}"),
		pod("image", "image: {reference: \"\"}"),
		pod("image pull policy", "image: {reference: busybox, pullPolicy: Sometimes}"),
		pod("iscsi bad iqn", "iscsi: {targetPortal: p, iqn: foo, lun: 300, initiatorName: bar, chapAuthSession: true}"),
		pod("gce partition", "gcePersistentDisk: {pdName: p, partition: 300}"),
		pod("flex options", "flexVolume: {driver: d, options: {kubernetes.io/x: y}}"),
		pod("storageos secret", "storageos: {volumeName: v, secretRef: {name: \"\"}}"),
		pod("cinder secret", "cinder: {volumeID: v, secretRef: {name: \"\"}}"),
		pod("empty dir size", "emptyDir: {sizeLimit: -1}"),
		invalid("mount of an invalid volume", podsPath, podHead+"spec: {containers: [{name: c, image: busybox, volumeMounts: [{name: v, mountPath: /m}]}], volumes: [{name: v, rbd: {image: i}}]}"),
		invalid("ephemeral claim name", podsPath, "apiVersion: v1\nkind: Pod\nmetadata: {name: p123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567}\n"+
			"spec: {containers: [{name: c, image: busybox}], volumes: [{name: v, ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}}}, {name: w, persistentVolumeClaim: {claimName: p123-v}}]}"),
		invalid("claim of an ephemeral volume", podsPath, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"+
			"spec: {containers: [{name: c, image: busybox}], volumes: [{name: v, ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}}}, {name: w, persistentVolumeClaim: {claimName: p-v}}]}"),
		pod("image volume defaults", "image: {reference: busybox:1.36}"),
		invalid("deployment volume", "/apis/apps/v1/namespaces/{ns}/deployments", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: @}\n"+
			"spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: busybox}], volumes: [{name: v, azureDisk: {diskName: d, diskURI: \"\"}}]}}}"),
	})
}

func TestGapsStatusWarnings(t *testing.T) {
	const (
		svcs = "/api/v1/namespaces/{ns}/services"
		ings = "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses"
	)
	runScenario(t, "gaps-status-warnings", []request{
		{Name: "pod", Method: post, Path: podsPath, Body: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: busybox}]}"},
		{Name: "pod status ips", Method: patch, Path: podsPath + "/p/status", ContentType: mergeP,
			Body: `{"status":{"podIP":"2001:DB8::1","podIPs":[{"ip":"2001:DB8::1"}],"hostIP":"2001:DB8::2","hostIPs":[{"ip":"2001:DB8::2"}]}}`},
		{Name: "service", Method: post, Path: svcs, Body: "apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec: {type: LoadBalancer, ports: [{port: 80, nodePort: 31921}]}"},
		{Name: "service status ips", Method: patch, Path: svcs + "/lb/status", ContentType: mergeP,
			Body: `{"status":{"loadBalancer":{"ingress":[{"ip":"2001:DB8::3"},{"ip":"010.0.0.1"}]}}}`},
		{Name: "ingress", Method: post, Path: ings, Body: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: ing}\n" +
			"spec: {defaultBackend: {service: {name: s, port: {number: 80}}}}"},
		{Name: "ingress status ips", Method: patch, Path: ings + "/ing/status", ContentType: mergeP,
			Body: `{"status":{"loadBalancer":{"ingress":[{"ip":"2001:DB8::4"}]}}}`},
	})
}
