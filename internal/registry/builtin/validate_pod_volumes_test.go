package builtin_test

import "testing"

// Upstream's validateVolumeSource for pod volumes: one source, each with
// its checks, which for in-tree sources are mostly those of persistent
// volumes but differ in places (iSCSI's messages, Cinder's secret).
func TestPodVolumeValidation(t *testing.T) {
	pod := func(vol string) string {
		return "metadata: {name: p}\nspec: {containers: [{name: c, image: x}], volumes: [{name: v, " + vol + "}]}"
	}
	const v = "spec.volumes[0]"
	runVerdicts(t, []verdictCase{
		{name: "azure disk", resource: "pods", obj: pod("azureDisk: {diskName: d, diskURI: \"\"}"),
			want: []string{v + ".azureDisk.diskURI: Required value",
				v + `.azureDisk.diskURI: Unsupported value: "": supported values: "https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"`}},
		{name: "rbd", resource: "pods", obj: pod("rbd: {image: i}"), want: []string{v + ".rbd.monitors: Required value"}},
		{name: "iscsi", resource: "pods", obj: pod("iscsi: {targetPortal: p, iqn: foo}"),
			want: []string{v + `.iscsi.iqn: Invalid value: "foo": must be valid format starting with iqn, eui, or naa`}},
		{name: "cinder secret", resource: "pods", obj: pod("cinder: {volumeID: v, secretRef: {name: \"\"}}"),
			want: []string{v + ".cinder.secretRef.name: Required value"}},
		{name: "required fields of each source", resource: "pods",
			obj: "metadata: {name: p}\nspec: {containers: [{name: c, image: x}], volumes: [{name: a, glusterfs: {}}, {name: b, persistentVolumeClaim: {}}, " +
				"{name: c, azureFile: {}}, {name: d, scaleIO: {}}, {name: e, vsphereVolume: {}}, {name: f, photonPersistentDisk: {}}, " +
				"{name: g, portworxVolume: {}}, {name: h, cephfs: {}}, {name: i, gitRepo: {}}, {name: j}, {name: k, nfs: {}, fc: {}, csi: {}}]}",
			want: []string{
				"spec.volumes[0].glusterfs.endpoints: Required value",
				"spec.volumes[0].glusterfs.path: Required value",
				"spec.volumes[10].csi: Forbidden: may not specify more than 1 volume type",
				"spec.volumes[10].fc: Forbidden: may not specify more than 1 volume type",
				`spec.volumes[10].nfs.path: Invalid value: "": must be an absolute path`,
				"spec.volumes[10].nfs.path: Required value",
				"spec.volumes[10].nfs.server: Required value",
				"spec.volumes[1].persistentVolumeClaim.claimName: Required value",
				"spec.volumes[2].azureFile.secretName: Required value",
				"spec.volumes[2].azureFile.shareName: Required value",
				"spec.volumes[3].scaleIO.gateway: Required value",
				"spec.volumes[3].scaleIO.system: Required value",
				"spec.volumes[3].scaleIO.volumeName: Required value",
				"spec.volumes[4].vsphereVolume.volumePath: Required value",
				"spec.volumes[5].photonPersistentDisk.pdID: Required value",
				"spec.volumes[6].portworxVolume.volumeID: Required value",
				"spec.volumes[7].cephfs.monitors: Required value",
				"spec.volumes[8].gitRepo.repository: Required value",
			}},
		{name: "two sources", resource: "pods", obj: pod("emptyDir: {}, cephfs: {monitors: []}"),
			want: []string{v + ".cephFS: Forbidden: may not specify more than 1 volume type"}},
		{name: "secret item", resource: "pods", obj: pod("secret: {secretName: s, items: [{key: k, path: ..x}]}"),
			want: []string{v + `.secret.items[0].path: Invalid value: "..x": must not start with '..'`}},
		{name: "downward api field", resource: "pods", obj: pod("downwardAPI: {items: [{path: a, fieldRef: {fieldPath: spec.nodeName}}]}"),
			want: []string{v + `.downwardAPI.fieldRef.fieldPath: Unsupported value: "spec.nodeName": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"`}},
		{name: "projected duplicate paths", resource: "pods",
			obj:  pod("projected: {sources: [{secret: {name: s, items: [{key: a, path: p}]}}, {configMap: {name: c, items: [{key: a, path: p}]}}]}"),
			want: []string{v + `.projected: Invalid value: "c": conflicting duplicate paths`}},
		{name: "token without service account", resource: "pods", obj: pod("projected: {sources: [{serviceAccountToken: {path: t}}]}"),
			want: []string{v + ".projected.sources[0].serviceAccountToken: Forbidden: must not be specified when serviceAccountName is not set"}},
		{name: "mount of an invalid volume", resource: "pods",
			obj:  "metadata: {name: p}\nspec: {containers: [{name: c, image: x, volumeMounts: [{name: v, mountPath: /m}]}], volumes: [{name: v, rbd: {image: i}}]}",
			want: []string{v + ".rbd.monitors: Required value", `spec.containers[0].volumeMounts[0].name: Not found: "v"`}},
		{name: "template", resource: "apps/deployments",
			obj:  "metadata: {name: d}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: x}], volumes: [{name: v, nfs: {server: s, path: p}}]}}}",
			want: []string{`spec.template.spec.volumes[0].nfs.path: Invalid value: "p": must be an absolute path`}},
	})
}
