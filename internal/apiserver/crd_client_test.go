package apiserver_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// gadgetCRD is a namespaced CRD with a schema of a few types.
const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.client.example.com
spec:
  group: client.example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
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
              size: {type: integer}
              color: {type: string}
              tags:
                type: array
                items: {type: string}
                x-kubernetes-list-type: set
`

var gadgets = schema.GroupVersionResource{Group: "client.example.com", Version: "v1", Resource: "gadgets"}

func gadget(name, color string, size int, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "client.example.com/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"color": color, "size": int64(size)},
	}}
	u.SetLabels(labels)
	return u
}

// informerLog records what a dynamic informer delivered.
type informerLog struct {
	mu     sync.Mutex
	events []string // "ADD|UPDATE|DELETE name rv"
	rvs    map[string]bool
}

func (l *informerLog) add(kind string, obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u := obj.(*unstructured.Unstructured)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, fmt.Sprintf("%s %s %s", kind, u.GetName(), u.GetResourceVersion()))
	if kind != "DELETE" {
		l.rvs[u.GetResourceVersion()] = true
	}
}

func (l *informerLog) count(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if len(e) > len(kind) && e[:len(kind)+1] == kind+" " {
			n++
		}
	}
	return n
}

// TestCustomResourceClients applies a CRD from YAML with kubectl, and
// creates, lists (label selectors), patches (merge, json, apply) and
// deletes custom resources with the dynamic client while a dynamic
// informer watches: it sees every write, and its cache ends equal to a
// fresh list.
func TestCustomResourceClients(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	applyCRDFile(t, s, k, "gadgets.client.example.com", gadgetCRD, gadgets)
	k.ok("", "create", "namespace", "cl")
	ctx := context.Background()
	dc := dyn(t, s)
	rc := dc.Resource(gadgets).Namespace("cl")

	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, "cl", nil)
	inf := factory.ForResource(gadgets).Informer()
	log := &informerLog{rvs: map[string]bool{}}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { log.add("ADD", o) },
		UpdateFunc: func(_, o any) { log.add("UPDATE", o) },
		DeleteFunc: func(o any) { log.add("DELETE", o) },
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("informer did not sync")
	}

	var written []string // the resourceVersions the writes returned
	for i, color := range []string{"red", "red", "blue", "green", "blue"} {
		tier := "front"
		if i%2 == 1 {
			tier = "back"
		}
		out, err := rc.Create(ctx, gadget(fmt.Sprintf("g%d", i), color, i+1, map[string]string{"color": color, "tier": tier}), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create g%d: %v", i, err)
		}
		written = append(written, out.GetResourceVersion())
	}

	t.Run("label selectors", func(t *testing.T) {
		for sel, want := range map[string][]string{
			"color=red":               {"g0", "g1"},
			"color!=red":              {"g2", "g3", "g4"},
			"color in (blue, green)":  {"g2", "g3", "g4"},
			"tier=back,color=blue":    {},
			"tier=front,color=blue":   {"g2", "g4"},
			"!missing,tier":           {"g0", "g1", "g2", "g3", "g4"},
			"color notin (red,green)": {"g2", "g4"},
		} {
			l, err := rc.List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				t.Fatalf("list %s: %v", sel, err)
			}
			if got := namesOf(l); !slices.Equal(got, want) {
				t.Errorf("list %q: %v, want %v", sel, got, want)
			}
		}
		// The same selector through kubectl.
		out := k.ok("", "get", "gadgets", "-n", "cl", "-l", "color=red", "-o", "name")
		if out != "gadget.client.example.com/g0\ngadget.client.example.com/g1\n" {
			t.Errorf("kubectl get -l color=red: %q", out)
		}
	})

	t.Run("patches", func(t *testing.T) {
		out, err := rc.Patch(ctx, "g0", types.MergePatchType, []byte(`{"spec":{"size":10},"metadata":{"labels":{"patched":"merge"}}}`), metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("merge patch: %v", err)
		}
		written = append(written, out.GetResourceVersion())
		if n, _, _ := unstructured.NestedInt64(out.Object, "spec", "size"); n != 10 || out.GetLabels()["patched"] != "merge" {
			t.Errorf("merge patch: %v", out.Object)
		}
		out, err = rc.Patch(ctx, "g1", types.JSONPatchType, []byte(`[{"op":"replace","path":"/spec/color","value":"black"},{"op":"add","path":"/spec/tags","value":["a","b"]}]`), metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("json patch: %v", err)
		}
		written = append(written, out.GetResourceVersion())
		if c, _, _ := unstructured.NestedString(out.Object, "spec", "color"); c != "black" {
			t.Errorf("json patch: %v", out.Object)
		}
		// A json patch that tests a wrong value fails with upstream's 422.
		if _, err := rc.Patch(ctx, "g1", types.JSONPatchType, []byte(`[{"op":"test","path":"/spec/color","value":"white"}]`), metav1.PatchOptions{}); err == nil {
			t.Errorf("json patch test op: no error")
		} else if code, _ := statusCauses(err); code != 422 {
			t.Errorf("json patch test op: %v (code %d), want 422", err, code)
		}
		// Server-side apply: a new object, then a second manager's field.
		applied := crObj(t, `{"apiVersion":"client.example.com/v1","kind":"Gadget","metadata":{"name":"g9","labels":{"color":"white"}},"spec":{"color":"white","tags":["x"]}}`)
		out, err = rc.Apply(ctx, "g9", applied, metav1.ApplyOptions{FieldManager: "first"})
		if err != nil {
			t.Fatalf("apply create: %v", err)
		}
		written = append(written, out.GetResourceVersion())
		second := crObj(t, `{"apiVersion":"client.example.com/v1","kind":"Gadget","metadata":{"name":"g9"},"spec":{"size":7,"tags":["y"]}}`)
		out, err = rc.Apply(ctx, "g9", second, metav1.ApplyOptions{FieldManager: "second"})
		if err != nil {
			t.Fatalf("apply second manager: %v", err)
		}
		written = append(written, out.GetResourceVersion())
		tags, _, _ := unstructured.NestedStringSlice(out.Object, "spec", "tags")
		size, _, _ := unstructured.NestedInt64(out.Object, "spec", "size")
		color, _, _ := unstructured.NestedString(out.Object, "spec", "color")
		if !slices.Equal(tags, []string{"x", "y"}) || size != 7 || color != "white" {
			t.Errorf("apply of two managers (a set merged): tags %v size %d color %q", tags, size, color)
		}
		managers := map[string]bool{}
		for _, mf := range out.GetManagedFields() {
			managers[mf.Manager] = true
		}
		if !managers["first"] || !managers["second"] {
			t.Errorf("managedFields: %v", out.GetManagedFields())
		}
		// A conflict: second applies first's color without force.
		conflict := crObj(t, `{"apiVersion":"client.example.com/v1","kind":"Gadget","metadata":{"name":"g9"},"spec":{"color":"grey"}}`)
		if _, err := rc.Apply(ctx, "g9", conflict, metav1.ApplyOptions{FieldManager: "second"}); err == nil {
			t.Errorf("apply conflict: no error")
		} else if code, _ := statusCauses(err); code != 409 {
			t.Errorf("apply conflict: %v (code %d), want 409", err, code)
		}
		out, err = rc.Apply(ctx, "g9", conflict, metav1.ApplyOptions{FieldManager: "second", Force: true})
		if err != nil {
			t.Fatalf("apply force: %v", err)
		}
		written = append(written, out.GetResourceVersion())
	})

	if err := rc.Delete(ctx, "g3", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := rc.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "tier=back"}); err != nil {
		t.Fatalf("delete collection: %v", err)
	}

	// The informer saw every write and both kinds of delete, and its
	// cache is what a fresh list holds.
	eventually(t, "informer converges", func() error {
		l, err := rc.List(ctx, listAll)
		if err != nil {
			return err
		}
		want := map[string]string{}
		for _, it := range l.Items {
			want[it.GetName()] = it.GetResourceVersion()
		}
		got := map[string]string{}
		for _, o := range inf.GetStore().List() {
			u := o.(*unstructured.Unstructured)
			got[u.GetName()] = u.GetResourceVersion()
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("cache %v, list %v", got, want)
		}
		if n := log.count("DELETE"); n != 2 {
			return fmt.Errorf("%d deletes seen (g1, g3 expected)", n)
		}
		return nil
	})
	if got := namesOf(mustList(rc.List(ctx, listAll))(t)); !slices.Equal(got, []string{"g0", "g2", "g4", "g9"}) {
		t.Errorf("left: %v", got)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, rv := range written {
		if !log.rvs[rv] {
			t.Errorf("the informer never saw resourceVersion %s; events:\n%v", rv, log.events)
		}
	}
	if n := len(log.events); n != len(written)+2 {
		t.Errorf("%d events, want %d (%d writes, 2 deletes): %v", n, len(written)+2, len(written), log.events)
	}
}

// mustList returns a list, or a function failing the test on err.
func mustList(l *unstructured.UnstructuredList, err error) func(testing.TB) *unstructured.UnstructuredList {
	return func(t testing.TB) *unstructured.UnstructuredList {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
}
