package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// validatedCRD has a schema of every kind of check, CEL rules (one a
// transition rule) and defaults.
const validatedCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: checks.schema.example.com
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
                  level: {type: integer, default: 7}
`

var checks = schema.GroupVersionResource{Group: "schema.example.com", Version: "v1", Resource: "checks"}

func check(name, spec string) string {
	return fmt.Sprintf(`{"apiVersion":"schema.example.com/v1","kind":"Check","metadata":{"name":%q},"spec":%s}`, name, spec)
}

// TestCustomResourceValidation checks schema and CEL violations (422 with
// upstream's field paths), defaulting and pruning on create, and
// defaulting and pruning on read of a value written before the schema
// asked for them.
func TestCustomResourceValidation(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	applyCRDFile(t, s, k, "checks.schema.example.com", validatedCRD, checks)
	k.ok("", "create", "namespace", "sc")
	ctx := context.Background()
	rc := dyn(t, s).Resource(checks).Namespace("sc")
	prefix := etcdPrefix(t)

	t.Run("create refused", func(t *testing.T) {
		for _, c := range []struct {
			name, spec string
			causes     []string // each "field: start of the message"
		}{
			// The causes are what kube-apiserver v1.37.2 answers
			// (oracle/diff/cases_crd2_test.go): with an error of type,
			// required, enum, maxLength or maxItems, the CEL rules are
			// not run, and a cause without a field says so.
			{"type", `{"name":"a","replicas":"three"}`,
				[]string{`spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`, `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
			{"required", `{"replicas":2}`,
				[]string{`spec.name: Required value`, `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
			{"enum", `{"name":"a","mode":"medium"}`,
				[]string{`spec.mode: Unsupported value: "medium": supported values: "fast", "slow"`, `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
			{"pattern", `{"name":"Abc"}`,
				[]string{`spec.name: Invalid value: "Abc": spec.name in body should match '^[a-z]+$'`}},
			{"maxLength", `{"name":"abcdefghij"}`,
				[]string{`spec.name: Too long: may not be more than 8 bytes`, `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
			{"maximum", `{"name":"a","replicas":9}`,
				[]string{`spec.replicas: Invalid value: 9: spec.replicas in body should be less than or equal to 5`}},
			{"minimum", `{"name":"a","replicas":0,"minReplicas":0}`,
				[]string{`spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1`}},
			{"exclusiveMinimum", `{"name":"a","ratio":0}`,
				[]string{`spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0`}},
			{"maxItems", `{"name":"a","ports":[1,2,3]}`,
				[]string{`spec.ports: Too many: 3: must have at most 2 items`, `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`}},
			{"cel", `{"name":"a","replicas":2,"minReplicas":4}`,
				[]string{`spec: Invalid value: minReplicas must not exceed replicas`}},
			{"several", `{"name":"A","replicas":6}`,
				[]string{`spec.name: Invalid value: "A"`, `spec.replicas: Invalid value: 6`}},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := rc.Create(ctx, crObj(t, check("bad-"+strings.ToLower(c.name), c.spec)), metav1.CreateOptions{})
				code, causes := statusCauses(err)
				if code != 422 {
					t.Fatalf("create %s: %v (code %d), want 422", c.spec, err, code)
				}
				if len(causes) != len(c.causes) {
					t.Errorf("causes %q, want %q", causes, c.causes)
				}
				for _, want := range c.causes {
					if !slices.ContainsFunc(causes, func(got string) bool { return strings.HasPrefix(got, want) }) {
						t.Errorf("causes %q lack %q\n(error %v)", causes, want, err)
					}
				}
				if !strings.Contains(err.Error(), `Check.schema.example.com "bad-`+strings.ToLower(c.name)+`" is invalid`) {
					t.Errorf("message %q", err.Error())
				}
			})
		}
	})

	// The order of several causes is not checked: kube-apiserver's own
	// changes from request to request (kube-openapi's validator ranges
	// over the schema's properties map; seen with the oracle).

	t.Run("defaulted and pruned on create", func(t *testing.T) {
		out, err := rc.Create(ctx, crObj(t, `{"apiVersion":"schema.example.com/v1","kind":"Check","metadata":{"name":"d1"},"spec":{"name":"abc","unknown":1,"nested":{"extra":true}},"topLevelUnknown":"x"}`), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"minReplicas":1,"mode":"fast","name":"abc","nested":{"level":7},"replicas":2}`
		if got := specJSON(t, out); got != want {
			t.Errorf("spec %s, want %s", got, want)
		}
		if _, ok := out.Object["topLevelUnknown"]; ok {
			t.Errorf("top-level unknown field kept: %v", out.Object)
		}
		// What is stored is the pruned, defaulted object.
		var stored map[string]any
		if err := json.Unmarshal(etcdValue(t, prefix+"/schema.example.com/checks/sc/d1"), &stored); err != nil {
			t.Fatal(err)
		}
		if got := specJSON(t, &unstructured.Unstructured{Object: stored}); got != want {
			t.Errorf("stored spec %s, want %s", got, want)
		}
		if _, ok := stored["topLevelUnknown"]; ok {
			t.Errorf("stored top-level unknown field: %v", stored)
		}
	})

	t.Run("transition rule", func(t *testing.T) {
		if _, err := rc.Create(ctx, crObj(t, check("t1", `{"name":"a","id":"one"}`)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Unchanged id: the rule holds; other fields may change.
		if _, err := rc.Patch(ctx, "t1", types.MergePatchType, []byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("patch keeping id: %v", err)
		}
		_, err := rc.Patch(ctx, "t1", types.MergePatchType, []byte(`{"spec":{"id":"two"}}`), metav1.PatchOptions{})
		code, causes := statusCauses(err)
		if code != 422 || !slices.Equal(causes, []string{`spec.id: Invalid value: "two": id is immutable`}) {
			t.Errorf("patch of id: %v (code %d, causes %q), want 422 spec.id: id is immutable", err, code, causes)
		}
		// An update (PUT) goes through the same rule.
		cur, err := rc.Get(ctx, "t1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_ = unstructured.SetNestedField(cur.Object, "three", "spec", "id")
		if _, err := rc.Update(ctx, cur, metav1.UpdateOptions{}); err == nil {
			t.Errorf("update of id: no error")
		} else if code, _ := statusCauses(err); code != 422 {
			t.Errorf("update of id: %v", err)
		}
		// A rule with oldSelf does not apply on create, nor when the
		// field was absent before (no oldSelf): adding id is accepted.
		if _, err := rc.Create(ctx, crObj(t, check("t2", `{"name":"a"}`)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := rc.Patch(ctx, "t2", types.MergePatchType, []byte(`{"spec":{"id":"new"}}`), metav1.PatchOptions{}); err != nil {
			t.Errorf("adding id: %v", err)
		}
	})

	t.Run("defaulted and pruned on read of stored data", func(t *testing.T) {
		// A value as an older schema would have let it be stored: no
		// defaults, fields the schema no longer knows.
		raw := `{"apiVersion":"schema.example.com/v1","kind":"Check","metadata":{"name":"old","namespace":"sc",` +
			`"uid":"6a3c3e1e-0000-4000-8000-000000000001","creationTimestamp":"2026-01-01T00:00:00Z","generation":1},` +
			`"spec":{"name":"old","legacy":"x","nested":{"gone":1}},"legacyTop":true}`
		if _, err := shared.Client(t).Put(ctx, prefix+"/schema.example.com/checks/sc/old", raw); err != nil {
			t.Fatal(err)
		}
		want := `{"minReplicas":1,"mode":"fast","name":"old","nested":{"level":7},"replicas":2}`
		eventually(t, "the old value read defaulted and pruned", func() error {
			got, err := rc.Get(ctx, "old", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if s := specJSON(t, got); s != want {
				return fmt.Errorf("spec %s, want %s", s, want)
			}
			if _, ok := got.Object["legacyTop"]; ok {
				return fmt.Errorf("unknown top-level field kept: %v", got.Object)
			}
			return nil
		})
		// The list and a read from etcd (resourceVersion "") say the same.
		l, err := rc.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=old"})
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("list: %v %v", l, err)
		}
		if s := specJSON(t, &l.Items[0]); s != want {
			t.Errorf("listed spec %s, want %s", s, want)
		}
		// The stored value is left as it was until a write.
		if got := string(etcdValue(t, prefix+"/schema.example.com/checks/sc/old")); got != raw {
			t.Errorf("a read rewrote the stored value: %s", got)
		}
		// A write stores the defaulted, pruned object.
		if _, err := rc.Patch(ctx, "old", types.MergePatchType, []byte(`{"metadata":{"labels":{"touched":"yes"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		var stored map[string]any
		if err := json.Unmarshal(etcdValue(t, prefix+"/schema.example.com/checks/sc/old"), &stored); err != nil {
			t.Fatal(err)
		}
		if s := specJSON(t, &unstructured.Unstructured{Object: stored}); s != want {
			t.Errorf("stored after a write: spec %s, want %s", s, want)
		}
	})
}

// specJSON returns an object's spec as JSON (keys sorted).
func specJSON(t testing.TB, u *unstructured.Unstructured) string {
	t.Helper()
	b, err := json.Marshal(u.Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
