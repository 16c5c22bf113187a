package apiserver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// TestCustomResourceDefinitionUpdated changes a served CRD's schema and
// printer columns: new writes are checked against the new schema at once
// (old objects stay readable), kubectl prints the new column, and a
// watch and an informer opened before the change go on seeing events.
func TestCustomResourceDefinitionUpdated(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	applyCRDFile(t, s, k, "gadgets.client.example.com", gadgetCRD, gadgets)
	k.ok("", "create", "namespace", "up")
	ctx := context.Background()
	dc := dyn(t, s)
	rc := dc.Resource(gadgets).Namespace("up")
	first, err := rc.Create(ctx, gadget("old", "purple", 9, nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	w, err := rc.Watch(ctx, metav1.ListOptions{ResourceVersion: first.GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, "up", nil)
	inf := factory.ForResource(gadgets).Informer()
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("informer did not sync")
	}

	// color limited to red and blue, size at most 5, a Color column.
	patch := `[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color/enum","value":["red","blue"]},
{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/size/maximum","value":5},
{"op":"add","path":"/spec/versions/0/additionalPrinterColumns","value":[{"name":"Color","type":"string","jsonPath":".spec.color"}]}]`
	if _, err := dc.Resource(crdsResource).Patch(ctx, "gadgets.client.example.com", types.JSONPatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new schema enforced", func() error {
		_, err := rc.Create(ctx, gadget("bad", "green", 9, nil), metav1.CreateOptions{})
		if err == nil {
			_ = rc.Delete(ctx, "bad", metav1.DeleteOptions{})
			return fmt.Errorf("a green gadget of size 9 accepted")
		}
		if code, causes := statusCauses(err); code != 422 || len(causes) != 2 {
			return fmt.Errorf("%v (code %d, causes %q)", err, code, causes)
		}
		return nil
	})
	// The old object is read as it is. Writes of it are ratcheted, as
	// kube-apiserver's (CRDValidationRatcheting): fields left as they
	// were may stay invalid, a changed field must be valid.
	if _, err := rc.Get(ctx, "old", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Patch(ctx, "old", types.MergePatchType, []byte(`{"metadata":{"labels":{"a":"b"}}}`), metav1.PatchOptions{}); err != nil {
		t.Errorf("a label on the old object (its spec unchanged): %v", err)
	}
	_, err = rc.Patch(ctx, "old", types.MergePatchType, []byte(`{"spec":{"size":8}}`), metav1.PatchOptions{})
	if code, causes := statusCauses(err); code != 422 || len(causes) != 1 {
		t.Errorf("size changed to 8 (over the new maximum): %v (code %d causes %q), want 422 on spec.size only", err, code, causes)
	}
	if _, err := rc.Patch(ctx, "old", types.MergePatchType, []byte(`{"spec":{"color":"red","size":5}}`), metav1.PatchOptions{}); err != nil {
		t.Errorf("fixing the old object: %v", err)
	}
	eventually(t, "the new printer column", func() error {
		out, _, err := k.run("", "get", "gadgets", "-n", "up")
		if err != nil {
			return err
		}
		if want := "NAME   COLOR"; len(out) < len(want) || out[:len(want)] != want {
			return fmt.Errorf("kubectl get gadgets: %q", out)
		}
		return nil
	})

	// Both the watch and the informer see a create made after the change.
	created, err := rc.Create(ctx, gadget("new", "blue", 1, nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the informer sees the new object", func() error {
		o, ok, err := inf.GetStore().GetByKey("up/new")
		if err != nil || !ok {
			return fmt.Errorf("not in the cache (%v)", err)
		}
		if rv := o.(*unstructured.Unstructured).GetResourceVersion(); rv != created.GetResourceVersion() {
			return fmt.Errorf("cached at %s, created at %s", rv, created.GetResourceVersion())
		}
		return nil
	})
	seen := false
	for !seen {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				// A watch closed by the change is allowed (a client
				// watches again); kube-apiserver ends them too when it
				// replaces a CRD's storage.
				t.Logf("the watch ended with the CRD's change")
				return
			}
			if u, ok := e.Object.(*unstructured.Unstructured); ok && e.Type == watch.Added && u.GetName() == "new" {
				seen = true
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the watch opened before the change saw no ADDED event of the new object")
		}
	}
}
