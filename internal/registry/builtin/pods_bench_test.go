package builtin_test

import (
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// deploymentPodYAML is a pod as a deployment's replica set makes it (the
// pod of the apiserver package's BenchmarkCreatePodCPU).
const deploymentPodYAML = `
metadata:
  name: web-5d4f8c7b9-abcde
  labels: {app: web, pod-template-hash: 5d4f8c7b9}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d4f8c7b9, uid: 8e1f7f34-5b1e-4f0e-9d47-3c5a9f1e2b10}]
spec:
  containers:
  - name: web
    image: registry.example.com/web:1.2.3
    ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
    env: [{name: MODE, value: production}, {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    resources: {limits: {cpu: "1", memory: 512Mi}, requests: {cpu: 100m, memory: 128Mi}}
    volumeMounts: [{name: cache, mountPath: /cache}]
    livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5}
    readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5}
  - name: proxy
    image: registry.example.com/proxy:4.5
    args: [--upstream=127.0.0.1:8080]
    ports: [{name: https, containerPort: 8443}]
  volumes: [{name: cache, emptyDir: {}}]
`

// BenchmarkPodCreateChecks is what a pod create runs of the pod row
// before the store: preparation, validation and warnings (the object
// defaulted as the request's decode leaves it):
//
//	go test ./internal/registry/builtin -run '^$' -bench PodCreateChecks -count 5
func BenchmarkPodCreateChecks(b *testing.B) {
	var r *registry.Resource
	for _, row := range builtin.Resources() {
		if row.Group == "" && row.Resource == "pods" {
			r = row
		}
	}
	obj := r.New()
	if err := yaml.UnmarshalStrict([]byte(deploymentPodYAML), obj); err != nil {
		b.Fatal(err)
	}
	obj.(interface{ SetNamespace(string) }).SetNamespace("default")
	r.Default(obj)
	b.ReportAllocs()
	for b.Loop() {
		o := obj.DeepCopyObject()
		r.PrepareCreate(o)
		if errs := r.Validate(o); len(errs) != 0 {
			b.Fatal(errs)
		}
		if w := r.WarningsOnCreate(o); len(w) != 0 {
			b.Fatal(w)
		}
	}
}
