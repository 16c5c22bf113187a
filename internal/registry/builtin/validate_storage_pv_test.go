package builtin_test

import (
	"strings"
	"testing"
)

func TestPersistentVolumeValidation(t *testing.T) {
	pv := func(spec string) string { return "metadata: {name: v}\nspec: " + spec }
	const base = "capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], "
	const src = "hostPath: {path: /tmp}"
	local := "local: {path: /mnt/disk}, nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [n1]}]}]}}"
	runVerdicts(t, []verdictCase{
		// Recorded oracle verdicts (invalid-cluster/pv ...).
		{name: "without capacity", resource: "persistentvolumes", obj: pv("{accessModes: [ReadWriteOnce], " + src + "}"),
			want: []string{`spec.capacity: Unsupported value: null: supported values: "storage"`, "spec.capacity: Required value"}},
		{name: "without accessModes", resource: "persistentvolumes", obj: pv("{capacity: {storage: 1Gi}, " + src + "}"),
			want: []string{"spec.accessModes: Required value"}},
		{name: "without source", resource: "persistentvolumes", obj: pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}"),
			want: []string{"spec: Required value: must specify a volume type"}},
		{name: "two sources", resource: "persistentvolumes", obj: pv("{" + base + src + ", nfs: {server: s, path: /x}}"),
			want: []string{"spec.nfs: Forbidden: may not specify more than 1 volume type"}},
		{name: "bad reclaim policy", resource: "persistentvolumes", obj: pv("{" + base + "persistentVolumeReclaimPolicy: Keep, " + src + "}"),
			want: []string{`spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"`}},
		{name: "relative hostPath", resource: "persistentvolumes", obj: pv("{" + base + "hostPath: {path: tmp}}")},
		{name: "valid", resource: "persistentvolumes", obj: pv("{" + base + src + "}")},
		// Valid volumes.
		{name: "nfs", resource: "persistentvolumes",
			obj: "metadata: {name: v, annotations: {volume.beta.kubernetes.io/mount-options: hard}}\nspec: {" + base +
				"storageClassName: slow, mountOptions: [hard, nfsvers=4.1], persistentVolumeReclaimPolicy: Recycle, nfs: {server: 10.0.0.1, path: /exports}}"},
		{name: "local", resource: "persistentvolumes", obj: pv("{" + base + "volumeMode: Block, " + local + "}")},
		{name: "csi", resource: "persistentvolumes",
			obj: pv("{" + base + "volumeAttributesClassName: gold, csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1, fsType: ext4, " +
				"nodePublishSecretRef: {name: s, namespace: default}}, claimRef: {namespace: default, name: c}}")},
		{name: "bind claimRef", resource: "persistentvolumes", old: pv("{" + base + src + "}"),
			obj: pv("{" + base + src + ", claimRef: {namespace: default, name: c}, persistentVolumeReclaimPolicy: Delete}")},
		{name: "add controller expand secret", resource: "persistentvolumes",
			old: pv("{" + base + "csi: {driver: d.example.com, volumeHandle: h}}"),
			obj: pv("{" + base + "csi: {driver: d.example.com, volumeHandle: h, controllerExpandSecretRef: {name: s, namespace: ns}}}")},
		{name: "add node affinity", resource: "persistentvolumes", old: pv("{" + base + src + "}"),
			obj: pv("{" + base + src + ", nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: Exists}]}]}}}")},
		{name: "node affinity beta to GA", resource: "persistentvolumes",
			old: pv("{" + base + "local: {path: /mnt}, nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: failure-domain.beta.kubernetes.io/zone, operator: In, values: [z]}]}]}}}"),
			obj: pv("{" + base + "local: {path: /mnt}, nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [z]}]}]}}}")},
		// Further upstream checks.
		{name: "zero capacity and other resource", resource: "persistentvolumes", obj: pv("{capacity: {storage: 0, cpu: 1}, accessModes: [ReadWriteOnce], " + src + "}"),
			want: []string{`spec.capacity: Unsupported value: {"cpu":"1","storage":"0"}: supported values: "storage"`,
				`spec.capacity[storage]: Invalid value: "0": must be greater than zero`}},
		{name: "flex counted after another", resource: "persistentvolumes", obj: pv("{" + base + src + ", flexVolume: {driver: \"\", options: {k8s.io/x: \"v\"}}}"),
			want: []string{"spec.flexVolume.driver: Required value", `spec.flexVolume.options[k8s.io/x]: Invalid value: "k8s.io/x": kubernetes.io and k8s.io namespaces are reserved`}},
		{name: "gce path", resource: "persistentvolumes", obj: pv("{" + base + "gcePersistentDisk: {pdName: \"\", partition: 300}}"),
			want: []string{"spec.persistentDisk.pdName: Required value", "spec.persistentDisk.partition: Invalid value: 300: must be between 1 and 255, inclusive"}},
		{name: "cephfs path", resource: "persistentvolumes", obj: pv("{" + base + src + ", cephfs: {monitors: []}}"),
			want: []string{"spec.cephFS: Forbidden: may not specify more than 1 volume type"}},
		{name: "nfs relative", resource: "persistentvolumes", obj: pv("{" + base + "nfs: {server: s, path: x}}"),
			want: []string{`spec.nfs.path: Invalid value: "x": must be an absolute path`}},
		{name: "hostPath backsteps and type", resource: "persistentvolumes", obj: pv("{" + base + "hostPath: {path: /a/../b, type: Dir}}"),
			want: []string{`spec.hostPath.path: Invalid value: "/a/../b": must not contain '..'`,
				`spec.hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"`}},
		{name: "recycle root", resource: "persistentvolumes", obj: pv("{" + base + "persistentVolumeReclaimPolicy: Recycle, hostPath: {path: /}}"),
			want: []string{"spec.persistentVolumeReclaimPolicy: Forbidden: may not be 'recycle' for a hostPath mount of '/'"}},
		{name: "local without affinity", resource: "persistentvolumes", obj: pv("{" + base + "local: {path: /mnt}}"),
			want: []string{"spec.nodeAffinity: Required value: Local volume requires node affinity"}},
		{name: "bad node affinity", resource: "persistentvolumes",
			obj: pv("{" + base + src + ", nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In}], matchFields: [{key: spec.x, operator: Exists}]}]}}}"),
			want: []string{"spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
				`spec.nodeAffinity.required.nodeSelectorTerms[0].matchFields[0].operator: Invalid value: "Exists": not a valid selector operator`,
				`spec.nodeAffinity.required.nodeSelectorTerms[0].matchFields[0].key: Invalid value: "spec.x": not a valid field selector key`}},
		{name: "empty node affinity", resource: "persistentvolumes", obj: pv("{" + base + src + ", nodeAffinity: {}}"),
			want: []string{"spec.nodeAffinity.required: Required value: must specify required node constraints"}},
		{name: "mount options on hostPath", resource: "persistentvolumes",
			obj:  "metadata: {name: v, annotations: {volume.beta.kubernetes.io/mount-options: ro}}\nspec: {" + base + src + "}",
			want: []string{"metadata.annotations.volume.beta.kubernetes.io/mount-options: Forbidden: may not specify mount options for this volume type"}},
		{name: "csi checks", resource: "persistentvolumes",
			obj: pv("{" + base + "csi: {driver: \"" + strings.Repeat("d", 64) + "\", controllerPublishSecretRef: {name: \"\", namespace: Bad_NS}}}"),
			want: []string{"spec.csi.driver: Too long: may not be more than 63 bytes", "spec.csi.volumeHandle: Required value",
				"spec.csi.controllerPublishSecretRef.name: Required value",
				`spec.csi.controllerPublishSecretRef.namespace: Invalid value: "Bad_NS": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{name: "attributes class without csi", resource: "persistentvolumes", obj: pv("{" + base + src + ", volumeAttributesClassName: \"\"}"),
			want: []string{"spec.volumeAttributesClassName: Required value: an empty string is disallowed",
				"spec.csi: Required value: has to be specified when using volumeAttributesClassName"}},
		{name: "iscsi", resource: "persistentvolumes", obj: pv("{" + base + "iscsi: {targetPortal: p, iqn: bad, lun: 300, chapAuthSession: true}}"),
			want: []string{`spec.iscsi.iqn: Invalid value: "bad": must be valid format`, "spec.iscsi.lun: Invalid value: 300: must be between 0 and 255, inclusive",
				"spec.iscsi.secretRef: Required value"}},
		{name: "change source", resource: "persistentvolumes", old: pv("{" + base + "nfs: {server: a, path: /x}}"),
			obj: pv("{" + base + "nfs: {server: b, path: /x}}"),
			want: []string{"spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n" +
				"@@ -4,7 +4,7 @@\n  \"HostPath\": null,\n  \"Glusterfs\": null,\n  \"NFS\": {\n-  \"Server\": \"a\",\n+  \"Server\": \"b\",\n   \"Path\": \"/x\",\n   \"ReadOnly\": false\n  },\n"}},
		{name: "invalid update reported twice", resource: "persistentvolumes", old: pv("{" + base + src + "}"),
			obj:  pv("{" + base + src + ", storageClassName: Bad_SC}"),
			want: []string{badClass, badClass}},
		{name: "change node affinity", resource: "persistentvolumes", old: pv("{" + base + local + "}"),
			obj:  pv("{" + base + "local: {path: /mnt/disk}, nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [n2]}]}]}}}"),
			want: []string{`nodeAffinity: Invalid value: {"Required":{"NodeSelectorTerms":[{"MatchExpressions":[{"Key":"kubernetes.io/hostname","Operator":"In","Values":["n2"]}],"MatchFields":null}]}}: field is immutable, except for updating from beta label to GA`}},
		{name: "change volumeMode", resource: "persistentvolumes", old: pv("{" + base + local + "}"),
			obj:  pv("{" + base + "volumeMode: Block, " + local + "}"),
			want: []string{`volumeMode: Invalid value: "Block": field is immutable`}},
	})
}

const badClass = `spec.storageClassName: Invalid value: "Bad_SC": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
