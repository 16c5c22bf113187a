package builtin_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// SetObjectDefaults_Pod defaults the field references of downward API
// volumes, projected or not, and of env (apiVersion v1), a file key
// reference's optional (false) and an ephemeral volume's claim template
// (volumeMode Filesystem).
func TestPodVolumeAndEnvDefaults(t *testing.T) {
	pod := prepared(t, "pods", "", `metadata: {name: p}
spec:
  containers: [{name: c, image: i, env: [{name: A, valueFrom: {fieldRef: {fieldPath: metadata.name}}}, {name: B, valueFrom: {fileKeyRef: {volumeName: v, path: p, key: k}}}]}]
  volumes:
  - {name: d, downwardAPI: {items: [{path: nm, fieldRef: {fieldPath: metadata.name}}]}}
  - {name: p, projected: {sources: [{downwardAPI: {items: [{path: nm, fieldRef: {fieldPath: metadata.name}}]}}]}}
  - {name: e, ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce]}}}}`).(*corev1.Pod)
	wantYAML(t, pod.Spec.Volumes, `
- {name: d, downwardAPI: {defaultMode: 420, items: [{path: nm, fieldRef: {apiVersion: v1, fieldPath: metadata.name}}]}}
- {name: p, projected: {defaultMode: 420, sources: [{downwardAPI: {items: [{path: nm, fieldRef: {apiVersion: v1, fieldPath: metadata.name}}]}}]}}
- {name: e, ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce], volumeMode: Filesystem}}}}`)
	wantYAML(t, pod.Spec.Containers[0].Env, `
- {name: A, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}}
- {name: B, valueFrom: {fileKeyRef: {volumeName: v, path: p, key: k, optional: false}}}`)
}

// Upstream's conversion into apps/v1 sets each claim template's
// apiVersion and kind, whatever was sent.
func TestStatefulSetClaimTemplateKinds(t *testing.T) {
	s := prepared(t, "apps/statefulsets", "", "metadata: {name: s}\nspec: {volumeClaimTemplates: [{metadata: {name: a}}, {apiVersion: x, kind: z, metadata: {name: b}}]}").(*appsv1.StatefulSet)
	for i, c := range s.Spec.VolumeClaimTemplates {
		if c.APIVersion != "v1" || c.Kind != "PersistentVolumeClaim" {
			t.Errorf("template %d: apiVersion %q, kind %q", i, c.APIVersion, c.Kind)
		}
	}
}
