package apiserver_test

import (
	"context"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// scalerCRD declares /status and /scale.
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
              phase: {type: string}
`

var scalers = schema.GroupVersionResource{Group: "sub.example.com", Version: "v1", Resource: "scalers"}

// TestCustomResourceSubresources writes status through /status only and
// replicas through /scale, with the dynamic client, client-go's scale
// calls and kubectl scale.
func TestCustomResourceSubresources(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	applyCRDFile(t, s, k, "scalers.sub.example.com", scalerCRD, scalers)
	k.ok("", "create", "namespace", "sub")
	ctx := context.Background()
	rc := dyn(t, s).Resource(scalers).Namespace("sub")
	nested := func(u *unstructured.Unstructured, path ...string) any {
		v, _, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
		return v
	}

	created, err := rc.Create(ctx, crObj(t, `{"apiVersion":"sub.example.com/v1","kind":"Scaler","metadata":{"name":"s1"},"spec":{"replicas":2,"image":"a"},"status":{"phase":"set on create"}}`), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := created.Object["status"]; ok {
		t.Errorf("create kept the status: %v", st)
	}
	if created.GetGeneration() != 1 {
		t.Errorf("generation %d", created.GetGeneration())
	}

	t.Run("status", func(t *testing.T) {
		// A /status write changes the status only: the spec it sends is
		// ignored, and the generation stays.
		out, err := rc.Patch(ctx, "s1", types.MergePatchType, []byte(`{"spec":{"image":"changed by status"},"status":{"replicas":1,"selector":"app=s1","phase":"Running"}}`), metav1.PatchOptions{}, "status")
		if err != nil {
			t.Fatal(err)
		}
		if got := nested(out, "spec", "image"); got != "a" {
			t.Errorf("a /status write changed the spec: image %v", got)
		}
		if got := nested(out, "status", "phase"); got != "Running" {
			t.Errorf("status.phase %v", got)
		}
		if out.GetGeneration() != 1 {
			t.Errorf("a /status write bumped the generation to %d", out.GetGeneration())
		}
		// A main-resource write keeps the stored status and bumps the
		// generation for the spec.
		out, err = rc.Patch(ctx, "s1", types.MergePatchType, []byte(`{"spec":{"image":"b"},"status":{"phase":"changed by main"}}`), metav1.PatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := nested(out, "status", "phase"); got != "Running" {
			t.Errorf("a main write changed the status: phase %v", got)
		}
		if got := nested(out, "spec", "image"); got != "b" || out.GetGeneration() != 2 {
			t.Errorf("spec.image %v generation %d, want b 2", got, out.GetGeneration())
		}
		// A PUT of the whole object through the main resource, status
		// removed: the status stays.
		cur, err := rc.Get(ctx, "s1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		delete(cur.Object, "status")
		out, err = rc.Update(ctx, cur, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := nested(out, "status", "phase"); got != "Running" {
			t.Errorf("a main PUT without status dropped it: %v", out.Object["status"])
		}
		// UpdateStatus (PUT /status) with another spec: the spec stays.
		cur, err = rc.Get(ctx, "s1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_ = unstructured.SetNestedField(cur.Object, int64(9), "spec", "replicas")
		_ = unstructured.SetNestedField(cur.Object, "Ready", "status", "phase")
		out, err = rc.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := nested(out, "spec", "replicas"); got != int64(2) {
			t.Errorf("PUT /status changed spec.replicas to %v", got)
		}
		if got := nested(out, "status", "phase"); got != "Ready" {
			t.Errorf("PUT /status: phase %v", got)
		}
		// Status validated against the schema through /status.
		_, err = rc.Patch(ctx, "s1", types.MergePatchType, []byte(`{"status":{"replicas":"many"}}`), metav1.PatchOptions{}, "status")
		if code, causes := statusCauses(err); code != 422 || len(causes) == 0 || !strings.HasPrefix(causes[0], "status.replicas: ") {
			t.Errorf("invalid status: %v (code %d causes %q), want 422 on status.replicas", err, code, causes)
		}
	})

	t.Run("scale", func(t *testing.T) {
		scale := &autoscalingv1.Scale{}
		err := s.clientset(t).AutoscalingV1().RESTClient().Get().AbsPath("/apis/sub.example.com/v1/namespaces/sub/scalers/s1/scale").Do(ctx).Into(scale)
		if err != nil {
			t.Fatal(err)
		}
		if scale.Spec.Replicas != 2 || scale.Status.Replicas != 1 || scale.Status.Selector != "app=s1" {
			t.Errorf("scale %+v, want spec 2, status 1, selector app=s1", scale)
		}
		if scale.Namespace != "sub" || scale.Name != "s1" || scale.UID == "" {
			t.Errorf("scale's metadata %+v", scale.ObjectMeta)
		}
		// A merge patch of the scale sets spec.replicas.
		out, err := rc.Patch(ctx, "s1", types.MergePatchType, []byte(`{"spec":{"replicas":4}}`), metav1.PatchOptions{}, "scale")
		if err != nil {
			t.Fatal(err)
		}
		if got := nested(out, "spec", "replicas"); got != int64(4) || out.GetKind() != "Scale" || out.GetAPIVersion() != "autoscaling/v1" {
			t.Errorf("scale patch answered %v", out.Object)
		}
		got, err := rc.Get(ctx, "s1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r := nested(got, "spec", "replicas"); r != int64(4) {
			t.Errorf("after the scale patch spec.replicas %v", r)
		}
		// kubectl scale, with its precondition on the current replicas.
		k.ok("", "scale", "-n", "sub", "scalers/s1", "--current-replicas=4", "--replicas=6")
		if out := k.ok("", "get", "-n", "sub", "scalers", "s1", "-o", "jsonpath={.spec.replicas} {.metadata.generation}"); !strings.HasPrefix(out, "6 ") {
			t.Errorf("after kubectl scale: %q", out)
		}
		if _, _, err := k.run("", "scale", "-n", "sub", "scalers/s1", "--current-replicas=1", "--replicas=7"); err == nil {
			t.Errorf("kubectl scale with a wrong --current-replicas: no error")
		}
		// A negative replica count breaks the schema (minimum 0).
		_, err = rc.Patch(ctx, "s1", types.MergePatchType, []byte(`{"spec":{"replicas":-1}}`), metav1.PatchOptions{}, "scale")
		if code, _ := statusCauses(err); code != 422 {
			t.Errorf("scale to -1: %v (code %d), want 422", err, code)
		}
		t.Run("negative scale's causes", func(t *testing.T) {
			_, err := rc.Patch(ctx, "s1", types.MergePatchType, []byte(`{"spec":{"replicas":-1}}`), metav1.PatchOptions{}, "scale")
			want := `Scaler.sub.example.com "s1" is invalid: [spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0, .spec.replicas: Invalid value: -1: should be a non-negative integer]`
			if err == nil || err.Error() != want {
				t.Errorf("scale to -1: %v, want %s", err, want)
			}
		})
		// The scale of a missing object is a 404 naming the resource.
		_, err = rc.Get(ctx, "none", metav1.GetOptions{}, "scale")
		if code, _ := statusCauses(err); code != 404 {
			t.Errorf("scale of a missing object: %v", err)
		}
		if err != nil && !strings.Contains(err.Error(), `scalers.sub.example.com "none" not found`) {
			t.Errorf("404 message %q", err.Error())
		}
	})

	t.Run("kubectl subresource", func(t *testing.T) {
		out := k.ok("", "get", "-n", "sub", "scalers", "s1", "--subresource=scale", "-o", "jsonpath={.kind} {.spec.replicas} {.status.selector}")
		if out != "Scale 6 app=s1" {
			t.Errorf("kubectl get --subresource=scale: %q", out)
		}
		k.ok("", "patch", "-n", "sub", "scalers", "s1", "--subresource=status", "--type=merge", "-p", `{"status":{"phase":"Patched"}}`)
		if out := k.ok("", "get", "-n", "sub", "scalers", "s1", "-o", "jsonpath={.status.phase}"); out != "Patched" {
			t.Errorf("status.phase after kubectl patch --subresource=status: %q", out)
		}
	})
}
