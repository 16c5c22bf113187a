//go:build oracle

package diff

import "testing"

// Custom resources: server-side apply with the CRD's list types, the
// schema's less common keywords, and a CRD held by a finalizer.

const fleetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: fleets.apply.example.com}
spec:
  group: apply.example.com
  scope: Namespaced
  names: {plural: fleets, singular: fleet, kind: Fleet}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
              args:
                type: array
                x-kubernetes-list-type: atomic
                items: {type: string}
              budget: {x-kubernetes-int-or-string: true}
              note: {type: string, nullable: true}
              when: {type: string, format: date-time}
              template:
                type: object
                x-kubernetes-embedded-resource: true
                x-kubernetes-preserve-unknown-fields: true`

// TestCustomResourcesApply3 compares server-side apply of custom
// resources (list-type map, set, atomic; managedFields; conflicts) and
// the less common schema keywords.
func TestCustomResourcesApply3(t *testing.T) {
	fleets := "/apis/apply.example.com/v1/namespaces/{ns}/fleets"
	fleet := func(name, spec string) string {
		return `{"apiVersion":"apply.example.com/v1","kind":"Fleet","metadata":{"name":"` + name + `","labels":{"tier":"` + name + `"}},"spec":` + spec + `}`
	}
	runScenario(t, "crd-apply", []request{
		{Name: "create crd", Method: post, Path: crds2, Body: fleetCRD, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: fleets, IgnoreBody: true},
		{Name: "apply a", Method: patch, Path: fleets + "/f1?fieldManager=a", ContentType: applyP, ManagedFields: true,
			Body: fleet("f1", `{"ports":[{"name":"http","port":80}],"tags":["x"],"args":["one"]}`)},
		{Name: "apply b", Method: patch, Path: fleets + "/f1?fieldManager=b", ContentType: applyP, ManagedFields: true,
			Body: fleet("f1", `{"ports":[{"name":"https","port":443}],"tags":["y"]}`)},
		{Name: "apply b conflict", Method: patch, Path: fleets + "/f1?fieldManager=b", ContentType: applyP,
			Body: fleet("f1", `{"ports":[{"name":"http","port":8080}]}`)},
		{Name: "apply b atomic conflict", Method: patch, Path: fleets + "/f1?fieldManager=b", ContentType: applyP,
			Body: fleet("f1", `{"args":["two"]}`)},
		{Name: "apply b force", Method: patch, Path: fleets + "/f1?fieldManager=b&force=true", ContentType: applyP, ManagedFields: true,
			Body: fleet("f1", `{"ports":[{"name":"http","port":8080}],"args":["two"]}`)},
		{Name: "apply strict unknown", Method: patch, Path: fleets + "/f1?fieldManager=c&fieldValidation=Strict", ContentType: applyP,
			Body: fleet("f1", `{"unknown":1}`)},
		{Name: "get", Method: get, Path: fleets + "/f1", ManagedFields: true},
		{Name: "json patch test fails", Method: patch, Path: fleets + "/f1", ContentType: jsonP,
			Body: `[{"op":"test","path":"/spec/tags/0","value":"nope"}]`},
		{Name: "create f2", Method: post, Path: fleets, Body: fleet("f2", `{"budget":"50%","note":null,"when":"2026-01-02T03:04:05Z"}`)},
		{Name: "by label", Method: get, Path: fleets + "?labelSelector=tier%3Df2"},
		{Name: "by label set", Method: get, Path: fleets + "?labelSelector=tier+in+(f1,f2)"},
		{Name: "duplicate map key", Method: post, Path: fleets,
			Body: fleet("f3", `{"ports":[{"name":"http","port":1},{"name":"http","port":2}]}`)},
		{Name: "duplicate set item", Method: post, Path: fleets, Body: fleet("f4", `{"tags":["a","a"]}`)},
		{Name: "map item without key", Method: post, Path: fleets, Body: fleet("f5", `{"ports":[{"port":1}]}`)},
		{Name: "int-or-string bad", Method: post, Path: fleets, Body: fleet("f6", `{"budget":true}`)},
		{Name: "int-or-string int", Method: post, Path: fleets, Body: fleet("f7", `{"budget":5}`)},
		{Name: "bad date-time", Method: post, Path: fleets, Body: fleet("f8", `{"when":"yesterday"}`)},
		{Name: "embedded without kind", Method: post, Path: fleets, Body: fleet("f9", `{"template":{"metadata":{"name":"x"}}}`)},
		{Name: "embedded", Method: post, Path: fleets,
			Body: fleet("f10", `{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","unknown":1},"spec":{}}}`)},
		{Name: "list", Method: get, Path: fleets},
		{Name: "delete crd", Method: "DELETE", Path: crds2 + "/fleets.apply.example.com", IgnoreBody: true},
	})
}

const heldCRD3 = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: holds.held.example.com}
spec:
  group: held.example.com
  scope: Namespaced
  names: {plural: holds, singular: hold, kind: Hold}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}`

// TestCustomResourcesFinalizer3 compares a CRD deleted while a custom
// resource's finalizer holds it: creates are refused, the held object is
// still read and written.
func TestCustomResourcesFinalizer3(t *testing.T) {
	holds := "/apis/held.example.com/v1/namespaces/{ns}/holds"
	runScenario(t, "crd-held", []request{
		{Name: "create crd", Method: post, Path: crds2, Body: heldCRD3, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: holds, IgnoreBody: true},
		{Name: "create held", Method: post, Path: holds,
			Body: `{"apiVersion":"held.example.com/v1","kind":"Hold","metadata":{"name":"h1","finalizers":["example.com/hold"]}}`},
		{Name: "delete crd", Method: "DELETE", Path: crds2 + "/holds.held.example.com", IgnoreBody: true},
		{Name: "wait held", Method: wait, Path: holds + "/h1", IgnoreBody: true},
		{Name: "create refused", Method: post, Path: holds,
			Body: `{"apiVersion":"held.example.com/v1","kind":"Hold","metadata":{"name":"h2"}}`},
		{Name: "apply refused", Method: patch, Path: holds + "/h3?fieldManager=a", ContentType: applyP,
			Body: `{"apiVersion":"held.example.com/v1","kind":"Hold","metadata":{"name":"h3"}}`},
		{Name: "release", Method: patch, Path: holds + "/h1", ContentType: jsonP,
			Body: `[{"op":"remove","path":"/metadata/finalizers"}]`, IgnoreBody: true},
	})
}

const ratchetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ratchets.rat.example.com}
spec:
  group: rat.example.com
  scope: Namespaced
  names: {plural: ratchets, singular: ratchet, kind: Ratchet}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, color: {type: string}}}`

// TestCustomResourcesRatcheting3 compares writes after a CRD's schema got
// stricter: an object the new schema refuses may be written with its
// invalid fields unchanged (CRDValidationRatcheting). The same patch adds
// a version v2, whose being served tells that the change is in effect.
func TestCustomResourcesRatcheting3(t *testing.T) {
	v1 := "/apis/rat.example.com/v1/namespaces/{ns}/ratchets"
	stricter := `[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/size/maximum","value":5},
{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color/enum","value":["red"]},
{"op":"add","path":"/spec/versions/-","value":{"name":"v2","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}]`
	runScenario(t, "crd-ratchet", []request{
		{Name: "create crd", Method: post, Path: crds2, Body: ratchetCRD, IgnoreBody: true},
		{Name: "wait", Method: wait, Path: v1, IgnoreBody: true},
		{Name: "create r1", Method: post, Path: v1,
			Body: `{"apiVersion":"rat.example.com/v1","kind":"Ratchet","metadata":{"name":"r1"},"spec":{"size":9,"color":"green"}}`},
		{Name: "stricter", Method: patch, Path: crds2 + "/ratchets.rat.example.com", ContentType: jsonP, Body: stricter, IgnoreBody: true},
		{Name: "wait v2", Method: wait, Path: "/apis/rat.example.com/v2/namespaces/{ns}/ratchets", IgnoreBody: true},
		{Name: "create refused", Method: post, Path: v1,
			Body: `{"apiVersion":"rat.example.com/v1","kind":"Ratchet","metadata":{"name":"r2"},"spec":{"size":9,"color":"green"}}`},
		{Name: "label kept invalid", Method: patch, Path: v1 + "/r1", ContentType: mergeP, Body: `{"metadata":{"labels":{"a":"b"}}}`},
		{Name: "size changed invalid", Method: patch, Path: v1 + "/r1", ContentType: mergeP, Body: `{"spec":{"size":8}}`},
		{Name: "size fixed", Method: patch, Path: v1 + "/r1", ContentType: mergeP, Body: `{"spec":{"size":5}}`},
		{Name: "color changed invalid", Method: patch, Path: v1 + "/r1", ContentType: mergeP, Body: `{"spec":{"color":"blue"}}`},
		{Name: "delete crd", Method: "DELETE", Path: crds2 + "/ratchets.rat.example.com", IgnoreBody: true},
	})
}
