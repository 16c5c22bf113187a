//go:build oracle

package diff

import "testing"

// More custom resource scenarios, each with a CRD of its own group:
// schema and CEL errors, status and scale subresources, versions under
// conversion None, cluster scope with short names, categories and
// selectable fields.

const crds2 = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

const checkCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: checks.schema.example.com}
spec:
  group: schema.example.com
  scope: Namespaced
  names: {plural: checks, singular: check, kind: Check}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          spec:
            type: object
            required: [name]
            x-kubernetes-validations:
            - rule: "self.minReplicas <= self.replicas"
              message: "minReplicas must not exceed replicas"
            properties:
              name: {type: string, pattern: '^[a-z]+$', maxLength: 8}
              replicas: {type: integer, minimum: 1, maximum: 5, default: 2}
              minReplicas: {type: integer, default: 1}
              mode: {type: string, enum: [fast, slow], default: fast}
              ratio: {type: number, exclusiveMinimum: true, minimum: 0}
              ports:
                type: array
                maxItems: 2
                items: {type: integer}
              id:
                type: string
                x-kubernetes-validations:
                - rule: "self == oldSelf"
                  message: "id is immutable"
              nested:
                type: object
                default: {}
                properties:
                  level: {type: integer, default: 7}`

func checkBody(name, spec string) string {
	return `{"apiVersion":"schema.example.com/v1","kind":"Check","metadata":{"name":"` + name + `"},"spec":` + spec + `}`
}

// TestCustomResourcesSchema2 compares the 422s of schema and CEL
// violations, defaulting and pruning, and a transition rule.
func TestCustomResourcesSchema2(t *testing.T) {
	checks := "/apis/schema.example.com/v1/namespaces/{ns}/checks"
	reqs := []request{
		{Name: "create crd", Method: post, Path: crds2, Body: checkCRD, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: checks, IgnoreBody: true},
	}
	for _, c := range []struct{ name, spec string }{
		{"type", `{"name":"a","replicas":"three"}`},
		{"required", `{"replicas":2}`},
		{"enum", `{"name":"a","mode":"medium"}`},
		{"pattern", `{"name":"Abc"}`},
		{"maxlength", `{"name":"abcdefghij"}`},
		{"maximum", `{"name":"a","replicas":9}`},
		{"minimum", `{"name":"a","replicas":0,"minReplicas":0}`},
		{"exclusiveminimum", `{"name":"a","ratio":0}`},
		{"maxitems", `{"name":"a","ports":[1,2,3]}`},
		{"cel", `{"name":"a","replicas":2,"minReplicas":4}`},
		{"several", `{"name":"A","replicas":6}`},
		{"cel and schema", `{"name":"A","replicas":2,"minReplicas":4}`},
	} {
		reqs = append(reqs, request{Name: "refused " + c.name, Method: post, Path: checks, Body: checkBody("bad-"+c.name, c.spec)})
	}
	reqs = append(reqs,
		request{Name: "defaulted and pruned", Method: post, Path: checks,
			Body: `{"apiVersion":"schema.example.com/v1","kind":"Check","metadata":{"name":"d1"},"spec":{"name":"abc","unknown":1,"nested":{"extra":true}},"topLevelUnknown":"x"}`},
		request{Name: "create t1", Method: post, Path: checks, Body: checkBody("t1", `{"name":"a","id":"one"}`)},
		request{Name: "patch keeping id", Method: patch, Path: checks + "/t1", ContentType: mergeP, Body: `{"spec":{"replicas":3}}`},
		request{Name: "patch of id", Method: patch, Path: checks + "/t1", ContentType: mergeP, Body: `{"spec":{"id":"two"}}`},
		request{Name: "patch adds id", Method: patch, Path: checks + "/d1", ContentType: mergeP, Body: `{"spec":{"id":"new"}}`},
		request{Name: "delete crd", Method: "DELETE", Path: crds2 + "/checks.schema.example.com", IgnoreBody: true},
	)
	runScenario(t, "crd-schema", reqs)
}

const scalerCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: scalers.sub.example.com}
spec:
  group: sub.example.com
  scope: Namespaced
  names: {plural: scalers, singular: scaler, kind: Scaler}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer, minimum: 0}
              image: {type: string}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
              phase: {type: string}`

// TestCustomResourcesSubresources2 compares /status and /scale.
func TestCustomResourcesSubresources2(t *testing.T) {
	scalers := "/apis/sub.example.com/v1/namespaces/{ns}/scalers"
	runScenario(t, "crd-sub", []request{
		{Name: "create crd", Method: post, Path: crds2, Body: scalerCRD, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: scalers, IgnoreBody: true},
		{Name: "create with status", Method: post, Path: scalers,
			Body: `{"apiVersion":"sub.example.com/v1","kind":"Scaler","metadata":{"name":"s1"},"spec":{"replicas":2,"image":"a"},"status":{"phase":"set on create"}}`},
		{Name: "status write", Method: patch, Path: scalers + "/s1/status", ContentType: mergeP,
			Body: `{"spec":{"image":"changed by status"},"status":{"replicas":1,"selector":"app=s1","phase":"Running"}}`},
		{Name: "main write", Method: patch, Path: scalers + "/s1", ContentType: mergeP,
			Body: `{"spec":{"image":"b"},"status":{"phase":"changed by main"}}`},
		{Name: "get", Method: get, Path: scalers + "/s1"},
		{Name: "get scale", Method: get, Path: scalers + "/s1/scale"},
		{Name: "patch scale", Method: patch, Path: scalers + "/s1/scale", ContentType: mergeP, Body: `{"spec":{"replicas":4}}`},
		{Name: "put scale", Method: put, Path: scalers + "/s1/scale",
			Body: `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"s1","namespace":"{ns}"},"spec":{"replicas":5}}`},
		{Name: "scale refused", Method: patch, Path: scalers + "/s1/scale", ContentType: mergeP, Body: `{"spec":{"replicas":-1}}`},
		{Name: "get after scale", Method: get, Path: scalers + "/s1"},
		{Name: "put status", Method: put, Path: scalers + "/s1/status",
			Body: `{"apiVersion":"sub.example.com/v1","kind":"Scaler","metadata":{"name":"s1"},"spec":{"replicas":9},"status":{"replicas":5,"selector":"app=s1"}}`, IgnoreBody: true},
		{Name: "get after put status", Method: get, Path: scalers + "/s1"},
		{Name: "scale of missing", Method: get, Path: scalers + "/none/scale"},
		{Name: "delete crd", Method: "DELETE", Path: crds2 + "/scalers.sub.example.com", IgnoreBody: true},
	})
}

const multiCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: multis.ver.example.com}
spec:
  group: ver.example.com
  scope: Namespaced
  names: {plural: multis, singular: multi, kind: Multi}
  conversion: {strategy: None}
  versions:
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, old: {type: string}}}
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer, default: 1}}}`

// TestCustomResourcesVersions2 compares a CRD of two versions.
func TestCustomResourcesVersions2(t *testing.T) {
	beta := "/apis/ver.example.com/v1beta1/namespaces/{ns}/multis"
	v1 := "/apis/ver.example.com/v1/namespaces/{ns}/multis"
	runScenario(t, "crd-ver", []request{
		{Name: "create crd", Method: post, Path: crds2, Body: multiCRD, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: v1, IgnoreBody: true},
		{Name: "wait beta", Method: wait, Path: beta, IgnoreBody: true},
		{Name: "create beta", Method: post, Path: beta,
			Body: `{"apiVersion":"ver.example.com/v1beta1","kind":"Multi","metadata":{"name":"m1"},"spec":{"size":3,"old":"x"}}`},
		{Name: "get v1", Method: get, Path: v1 + "/m1"},
		{Name: "get beta", Method: get, Path: beta + "/m1"},
		{Name: "list v1", Method: get, Path: v1},
		{Name: "create v1", Method: post, Path: v1,
			Body: `{"apiVersion":"ver.example.com/v1","kind":"Multi","metadata":{"name":"m2"},"spec":{}}`},
		{Name: "list beta", Method: get, Path: beta},
		{Name: "wrong apiVersion", Method: post, Path: v1,
			Body: `{"apiVersion":"ver.example.com/v1beta1","kind":"Multi","metadata":{"name":"m3"},"spec":{}}`},
		{Name: "get crd status", Method: get, Path: crds2 + "/multis.ver.example.com", IgnoreBody: true},
		{Name: "delete crd", Method: "DELETE", Path: crds2 + "/multis.ver.example.com", IgnoreBody: true},
	})
}

const clusteredCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clusters.cl.example.com}
spec:
  group: cl.example.com
  scope: Cluster
  names: {plural: clusters, singular: cluster, kind: Cluster, shortNames: [clu], categories: [all, mine]}
  versions:
  - name: v1
    served: true
    storage: true
    selectableFields: [{jsonPath: .spec.color}, {jsonPath: .spec.size}]
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {color: {type: string}, size: {type: integer}}}`

// TestCustomResourcesCluster2 compares a cluster-scoped CRD, its
// discovery and field selectors.
func TestCustomResourcesCluster2(t *testing.T) {
	cl := "/apis/cl.example.com/v1/clusters"
	runScenario(t, "crd-cluster", []request{
		{Name: "create crd", Method: post, Path: crds2, Body: clusteredCRD, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: cl, IgnoreBody: true},
		{Name: "discovery", Method: get, Path: "/apis/cl.example.com/v1"},
		{Name: "create red", Method: post, Path: cl,
			Body: `{"apiVersion":"cl.example.com/v1","kind":"Cluster","metadata":{"name":"c1"},"spec":{"color":"red","size":1}}`},
		{Name: "create blue", Method: post, Path: cl,
			Body: `{"apiVersion":"cl.example.com/v1","kind":"Cluster","metadata":{"name":"c2"},"spec":{"color":"blue","size":2}}`},
		{Name: "create namespaced path", Method: post, Path: "/apis/cl.example.com/v1/namespaces/{ns}/clusters",
			Body: `{"apiVersion":"cl.example.com/v1","kind":"Cluster","metadata":{"name":"c3"},"spec":{}}`},
		{Name: "by color", Method: get, Path: cl + "?fieldSelector=spec.color%3Dred"},
		{Name: "by size", Method: get, Path: cl + "?fieldSelector=spec.size%3D2"},
		{Name: "by name", Method: get, Path: cl + "?fieldSelector=metadata.name%3Dc2"},
		{Name: "by color not", Method: get, Path: cl + "?fieldSelector=spec.color!%3Dred"},
		{Name: "unknown field", Method: get, Path: cl + "?fieldSelector=spec.shape%3Dround"},
		{Name: "by namespace", Method: get, Path: cl + "?fieldSelector=metadata.namespace%3D"},
		{Name: "table", Method: get, Path: cl, Accept: "application/json;as=Table;v=v1;g=meta.k8s.io"},
		{Name: "delete crd", Method: "DELETE", Path: crds2 + "/clusters.cl.example.com", IgnoreBody: true},
	})
}

// The status differences of these scenarios not fixed yet: bugs for the
// lead (listed in the notes of issue 12's tests).
var knownCRD2 = map[string]string{}

func init() { addKnown(knownCRD2) }
