package builtin_test

import (
	"strings"
	"testing"
)

const storageQualifiedMsg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

func TestPersistentVolumeClaimValidation(t *testing.T) {
	pvc := func(spec string) string { return "metadata: {name: c}\nspec: " + spec }
	const valid = "{accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"
	runVerdicts(t, []verdictCase{
		// Recorded oracle verdicts (invalid-config/pvc ...).
		{name: "without accessModes", resource: "persistentvolumeclaims", obj: pvc("{resources: {requests: {storage: 1Gi}}}"),
			want: []string{"spec.accessModes: Required value: at least 1 access mode is required"}},
		{name: "without storage", resource: "persistentvolumeclaims", obj: pvc("{accessModes: [ReadWriteOnce]}"),
			want: []string{"spec.resources[storage]: Required value"}},
		{name: "bad accessMode", resource: "persistentvolumeclaims", obj: pvc("{accessModes: [ReadWriteSometimes], resources: {requests: {storage: 1Gi}}}"),
			want: []string{`spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"`}},
		{name: "negative storage", resource: "persistentvolumeclaims", obj: pvc(`{accessModes: [ReadWriteOnce], resources: {requests: {storage: "-1"}}}`),
			want: []string{`spec.resources[storage]: Invalid value: "-1": must be greater than zero`}},
		{name: "bad volumeMode", resource: "persistentvolumeclaims", obj: pvc("{volumeMode: Raw, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"),
			want: []string{`spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"`}},
		{name: "change accessModes", resource: "persistentvolumeclaims", old: pvc(valid),
			obj: pvc("{accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}"),
			want: []string{"spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n" +
				"@@ -1,6 +1,6 @@\n {\n  \"AccessModes\": [\n-  \"ReadWriteOnce\"\n+  \"ReadWriteMany\"\n  ],\n  \"Selector\": null,\n  \"Resources\": {\n"}},
		// Valid claims.
		{name: "valid", resource: "persistentvolumeclaims", obj: pvc(valid)},
		{name: "valid full", resource: "persistentvolumeclaims",
			obj: pvc("{accessModes: [ReadWriteOncePod], storageClassName: fast, volumeMode: Block, selector: {matchLabels: {a: b}}, " +
				"dataSource: {kind: PersistentVolumeClaim, name: src}, resources: {requests: {storage: 10Gi}, limits: {storage: 20Gi}}}")},
		{name: "snapshot source", resource: "persistentvolumeclaims",
			obj: pvc("{accessModes: [ReadWriteOnce], dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: s}, resources: {requests: {storage: 1Gi}}}")},
		{name: "empty storage class", resource: "persistentvolumeclaims", obj: pvc(`{storageClassName: "", accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}`)},
		{name: "unknown dataSource dropped", resource: "persistentvolumeclaims",
			obj: pvc("{accessModes: [ReadWriteOnce], dataSource: {kind: Pod, name: p}, resources: {requests: {storage: 1Gi}}}")},
		{name: "cross-namespace dataSourceRef dropped", resource: "persistentvolumeclaims",
			obj: pvc("{accessModes: [ReadWriteOnce], dataSourceRef: {kind: Pod, name: p, namespace: Bad_NS}, resources: {requests: {storage: 1Gi}}}")},
		{name: "bind volumeName", resource: "persistentvolumeclaims", old: pvc(valid),
			obj: pvc("{volumeName: pv1, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}")},
		{name: "set storage class from nil", resource: "persistentvolumeclaims", old: pvc(valid),
			obj: pvc("{storageClassName: fast, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}")},
		{name: "grow storage", resource: "persistentvolumeclaims", old: pvc(valid),
			obj: pvc("{accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}"),
			want: []string{"spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n" +
				"@@ -6,7 +6,7 @@\n  \"Resources\": {\n   \"Limits\": null,\n   \"Requests\": {\n-   \"storage\": \"1Gi\"\n+   \"storage\": \"2Gi\"\n   }\n  },\n  \"VolumeName\": \"\",\n"}},
		// Further upstream checks.
		{name: "RWOP with others", resource: "persistentvolumeclaims", obj: pvc("{accessModes: [ReadWriteOncePod, ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"),
			want: []string{"spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"}},
		{name: "bad storage class", resource: "persistentvolumeclaims", obj: pvc("{storageClassName: Fast_SC, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"),
			want: []string{`spec.storageClassName: Invalid value: "Fast_SC": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
		{name: "zero storage", resource: "persistentvolumeclaims", obj: pvc("{accessModes: [ReadWriteOnce], resources: {requests: {storage: 0}}}"),
			want: []string{`spec.resources[storage]: Invalid value: "0": must be greater than zero`}},
		{name: "dataSourceRef without name", resource: "persistentvolumeclaims",
			obj:  pvc("{accessModes: [ReadWriteOnce], dataSourceRef: {apiGroup: example.com, kind: Thing}, resources: {requests: {storage: 1Gi}}}"),
			want: []string{"spec.dataSource.name: Required value", "spec.dataSourceRef.name: Required value"}},
		{name: "dataSource mismatch", resource: "persistentvolumeclaims",
			obj:  pvc("{accessModes: [ReadWriteOnce], dataSource: {kind: PersistentVolumeClaim, name: a}, dataSourceRef: {kind: PersistentVolumeClaim, name: b}, resources: {requests: {storage: 1Gi}}}"),
			want: []string{"spec: Invalid value: {}: must match dataSourceRef"}},
		{name: "dataSourceRef core non-claim", resource: "persistentvolumeclaims",
			obj: pvc("{accessModes: [ReadWriteOnce], dataSourceRef: {kind: Pod, name: p}, resources: {requests: {storage: 1Gi}}}"),
			want: []string{`spec.dataSource: Invalid value: "Pod": must be 'PersistentVolumeClaim' when referencing the default apiGroup`,
				`spec.dataSourceRef: Invalid value: "Pod": must be 'PersistentVolumeClaim' when referencing the default apiGroup`}},
		{name: "bad selector", resource: "persistentvolumeclaims",
			obj:  pvc("{accessModes: [ReadWriteOnce], selector: {matchExpressions: [{key: a, operator: Near}]}, resources: {requests: {storage: 1Gi}}}"),
			want: []string{`spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator`}},
		{name: "shrink unbound", resource: "persistentvolumeclaims", old: pvc("{accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}"),
			obj: pvc(valid),
			want: []string{"spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n" +
				"@@ -6,7 +6,7 @@\n  \"Resources\": {\n   \"Limits\": null,\n   \"Requests\": {\n-   \"storage\": \"2Gi\"\n+   \"storage\": \"1Gi\"\n   }\n  },\n  \"VolumeName\": \"\",\n"}},
		{name: "change volumeMode", resource: "persistentvolumeclaims", old: pvc(valid),
			obj: pvc("{volumeMode: Block, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"),
			want: []string{"spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n" +
				"@@ -11,7 +11,7 @@\n  },\n  \"VolumeName\": \"\",\n  \"StorageClassName\": null,\n- \"VolumeMode\": \"Filesystem\",\n+ \"VolumeMode\": \"Block\",\n  \"DataSource\": null,\n  \"DataSourceRef\": null,\n  \"VolumeAttributesClassName\": null\n",
				`volumeMode: Invalid value: "Block": field is immutable`}},
		{name: "change beta class annotation", resource: "persistentvolumeclaims",
			old:  "metadata: {name: c, annotations: {volume.beta.kubernetes.io/storage-class: a}}\nspec: " + valid,
			obj:  "metadata: {name: c, annotations: {volume.beta.kubernetes.io/storage-class: b}}\nspec: " + valid,
			want: []string{`metadata.annotations.volume.beta.kubernetes.io/storage-class: Invalid value: "b": field is immutable`}},
		{name: "class from beta annotation", resource: "persistentvolumeclaims",
			old: "metadata: {name: c, annotations: {volume.beta.kubernetes.io/storage-class: a}}\nspec: " + valid,
			obj: "metadata: {name: c, annotations: {volume.beta.kubernetes.io/storage-class: a}}\nspec: {storageClassName: a, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}"},
	})
}

func TestStorageClassValidation(t *testing.T) {
	sc := func(rest string) string { return "metadata: {name: s}\n" + rest }
	runVerdicts(t, []verdictCase{
		// Recorded oracle verdicts (invalid-cluster/storageclass ...).
		{name: "without provisioner", resource: "storage.k8s.io/storageclasses", obj: sc(""),
			want: []string{"provisioner: Required value"}},
		{name: "bad reclaimPolicy", resource: "storage.k8s.io/storageclasses", obj: sc("provisioner: example.com/x\nreclaimPolicy: Keep"),
			want: []string{`reclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Retain"`}},
		{name: "bad volumeBindingMode", resource: "storage.k8s.io/storageclasses", obj: sc("provisioner: example.com/x\nvolumeBindingMode: Later"),
			want: []string{`volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"`}},
		{name: "bad provisioner", resource: "storage.k8s.io/storageclasses", obj: sc(`provisioner: "Bad Provisioner!"`),
			want: []string{`provisioner: Invalid value: "bad provisioner!": ` + storageQualifiedMsg}},
		{name: "change parameters", resource: "storage.k8s.io/storageclasses",
			old: sc("provisioner: example.com/x\nparameters: {a: b}"), obj: sc("provisioner: example.com/x\nparameters: {a: c}"),
			want: []string{"parameters: Invalid value: null: field is immutable"}},
		// Valid classes.
		{name: "valid", resource: "storage.k8s.io/storageclasses", obj: sc("provisioner: example.com/x\nparameters: {a: b}")},
		{name: "valid full", resource: "storage.k8s.io/storageclasses",
			obj: sc("provisioner: kubernetes.io/no-provisioner\nreclaimPolicy: Retain\nvolumeBindingMode: WaitForFirstConsumer\n" +
				"allowVolumeExpansion: true\nmountOptions: [debug]\nallowedTopologies: [{matchLabelExpressions: [{key: topology.kubernetes.io/zone, values: [a, b]}]}]")},
		{name: "change labels", resource: "storage.k8s.io/storageclasses",
			old: sc("provisioner: example.com/x"), obj: "metadata: {name: s, labels: {a: b}}\nprovisioner: example.com/x"},
		// Further upstream checks.
		{name: "change provisioner and policies", resource: "storage.k8s.io/storageclasses",
			old: sc("provisioner: example.com/x"), obj: sc("provisioner: example.com/y\nreclaimPolicy: Retain\nvolumeBindingMode: WaitForFirstConsumer"),
			want: []string{"provisioner: Invalid value: null: field is immutable", "reclaimPolicy: Invalid value: null: field is immutable",
				"volumeBindingMode: Invalid value: null: field is immutable"}},
		{name: "empty parameter key", resource: "storage.k8s.io/storageclasses", obj: sc("provisioner: example.com/x\nparameters: {\"\": b}"),
			want: []string{`parameters: Invalid value: "": field can not be empty.`}},
		{name: "bad topology", resource: "storage.k8s.io/storageclasses",
			obj: sc("provisioner: example.com/x\nallowedTopologies: [{matchLabelExpressions: [{key: \"bad key!\", values: []}, {key: \"bad key!\", values: [a, a]}]}]"),
			want: []string{"allowedTopologies[0].matchLabelExpressions[0].values: Required value",
				`allowedTopologies[0].matchLabelExpressions[0].key: Invalid value: "bad key!": ` + storageQualifiedMsg,
				`allowedTopologies[0].matchLabelExpressions[1].values[1]: Duplicate value: "a"`,
				`allowedTopologies[0].matchLabelExpressions[1].key: Invalid value: "bad key!": ` + storageQualifiedMsg,
				`allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "bad key!"`}},
		{name: "duplicate topology terms", resource: "storage.k8s.io/storageclasses",
			obj:  sc("provisioner: example.com/x\nallowedTopologies: [{matchLabelExpressions: [{key: a, values: [x]}]}, {matchLabelExpressions: [{key: a, values: [x]}]}]"),
			want: []string{`allowedTopologies[1].matchLabelExpressions: Duplicate value: ""`}},
		{name: "empty topology term", resource: "storage.k8s.io/storageclasses", obj: sc("provisioner: example.com/x\nallowedTopologies: [{}]"),
			want: []string{`allowedTopologies[0].matchLabelExpressions: Duplicate value: ""`}},
		{name: "too long provisioner", resource: "storage.k8s.io/storageclasses", obj: sc("provisioner: example.com/" + strings.Repeat("x", 64)),
			want: []string{`provisioner: Invalid value: "example.com/` + strings.Repeat("x", 64) + `": name part must be no more than 63 bytes`}},
	})
}
