//go:build oracle

package diff

import (
	"strings"
	"testing"
	"time"
)

// widgetCRD is the fixtures' CRD (../shared/fixtures): a namespaced
// Widget with a schema, a default, a printer column and /status.
const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns: [{name: Size, type: integer, jsonPath: .spec.size}]
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {type: string, enum: [red, blue]}
              size: {type: integer, minimum: 1, default: 3}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}`

// TestCustomResources creates a CRD, waits until it is served, and
// writes, reads and deletes custom resources as both servers answer.
func TestCustomResources(t *testing.T) {
	crds := "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
	widgets := "/apis/example.com/v1/namespaces/{ns}/widgets"
	runScenario(t, "crd", []request{
		{Name: "create crd", Method: post, Path: crds, Body: widgetCRD, ManagedFields: true},
		{Name: "wait", Method: wait, Path: widgets, IgnoreBody: true},
		{Name: "get crd", Method: get, Path: crds + "/widgets.example.com", ManagedFields: true},
		{Name: "create pruned and defaulted", Method: post, Path: widgets,
			Body: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {color: red, unknownField: dropped}", ManagedFields: true},
		{Name: "create strict unknown", Method: post, Path: widgets + "?fieldValidation=Strict",
			Body: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {color: red, unknownField: dropped}"},
		{Name: "create enum refused", Method: post, Path: widgets,
			Body: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {color: green, size: 0}"},
		{Name: "get", Method: get, Path: widgets + "/w1"},
		{Name: "list", Method: get, Path: widgets},
		{Name: "table", Method: get, Path: widgets, Accept: "application/json;as=Table;v=v1;g=meta.k8s.io"},
		{Name: "protobuf refused", Method: get, Path: widgets + "/w1", Accept: "application/vnd.kubernetes.protobuf"},
		{Name: "merge patch", Method: patch, Path: widgets + "/w1", ContentType: mergeP, Body: `{"spec":{"size":5}}`, ManagedFields: true},
		{Name: "strategic patch refused", Method: patch, Path: widgets + "/w1", ContentType: smpP, Body: `{"spec":{"size":6}}`},
		{Name: "status update", Method: put, Path: widgets + "/w1/status",
			Body: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 9}\nstatus: {ready: true}", IgnoreBody: true},
		{Name: "get after status", Method: get, Path: widgets + "/w1"},
		{Name: "apply", Method: patch, Path: widgets + "/w4?fieldManager=a", ContentType: applyP,
			Body: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w4}\nspec: {color: blue}", ManagedFields: true},
		{Name: "delete", Method: "DELETE", Path: widgets + "/w1"},
		{Name: "delete crd", Method: "DELETE", Path: crds + "/widgets.example.com"},
	})
}

// TestCustomResourceExplain creates a CRD on both servers and runs
// kubectl explain on its resource (OpenAPI v3, then v2): the same output.
func TestCustomResourceExplain(t *testing.T) {
	crds := "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
	gadget := strings.NewReplacer("widgets", "gadgets", "Widget", "Gadget", "widget", "gadget", "wd]", "gd]").Replace(widgetCRD)
	runScenario(t, "crd-explain", []request{
		{Name: "create crd", Method: post, Path: crds, Body: gadget, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: "/apis/example.com/v1/gadgets", IgnoreBody: true},
	})
	defer runScenario(t, "crd-explain-end", []request{
		{Name: "delete crd", Method: "DELETE", Path: crds + "/gadgets.example.com", IgnoreBody: true},
	})
	for _, args := range [][]string{
		{"explain", "gadgets.spec"},
		{"explain", "gadgets", "--recursive"},
		{"explain", "gadgets", "--output=plaintext-openapiv2"},
	} {
		// kube-apiserver publishes a new CRD's OpenAPI a moment after it
		// is served: ask again until it has.
		o := runKubectl(t, servers.oracle, args...)
		for deadline := time.Now().Add(20 * time.Second); strings.Contains(o, "couldn't find resource") && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
			o = runKubectl(t, servers.oracle, args...)
		}
		r := runKubectl(t, servers.regis, args...)
		if o != r {
			t.Errorf("kubectl %s differs:\noracle:\n%.3000s\nregis:\n%.3000s", strings.Join(args, " "), o, r)
		}
	}
}

// TestCustomResourceVersions serves a CRD of two versions (conversion
// None, v1 stored) and a cluster-scoped one: writes through one version
// read through the other, scale, short names in discovery.
func TestCustomResourceVersions(t *testing.T) {
	crds := "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
	const twoVersions = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: sprockets.example.com}
spec:
  group: example.com
  names: {kind: Sprocket, plural: sprockets, categories: [all]}
  scope: Cluster
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
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
          spec: {type: object, properties: {replicas: {type: integer}, size: {type: string, pattern: "^[a-z]+$"}}}
          status: {type: object, properties: {replicas: {type: integer}, selector: {type: string}}}`
	beta, v1 := "/apis/example.com/v1beta1/sprockets", "/apis/example.com/v1/sprockets"
	runScenario(t, "crd-versions", []request{
		{Name: "create crd", Method: post, Path: crds, Body: twoVersions, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: v1, IgnoreBody: true},
		{Name: "wait beta", Method: wait, Path: beta, IgnoreBody: true},
		{Name: "create through v1beta1", Method: post, Path: beta,
			Body: "apiVersion: example.com/v1beta1\nkind: Sprocket\nmetadata: {name: s1}\nspec: {replicas: 2, size: big}"},
		{Name: "get through v1", Method: get, Path: v1 + "/s1"},
		{Name: "list through v1beta1", Method: get, Path: beta},
		{Name: "pattern refused", Method: post, Path: v1,
			Body: "apiVersion: example.com/v1\nkind: Sprocket\nmetadata: {name: s2}\nspec: {size: BIG}"},
		{Name: "wrong version in body", Method: post, Path: v1,
			Body: "apiVersion: example.com/v1beta1\nkind: Sprocket\nmetadata: {name: s3}"},
		{Name: "get scale", Method: get, Path: v1 + "/s1/scale"},
		{Name: "update scale", Method: put, Path: v1 + "/s1/scale",
			Body: "apiVersion: autoscaling/v1\nkind: Scale\nmetadata: {name: s1}\nspec: {replicas: 5}"},
		{Name: "get after scale", Method: get, Path: v1 + "/s1"},
		{Name: "discovery", Method: get, Path: "/apis/example.com/v1"},
		{Name: "delete crd", Method: "DELETE", Path: crds + "/sprockets.example.com", IgnoreBody: true},
	})
}
