package apiserver_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

// TestCustomResourceWatchAcrossCRDDelete watches custom resources while
// their CRD is deleted: the watch gets a DELETED event for each, and ends
// once the CRD is gone (its watch cache stopped).
func TestCustomResourceWatchAcrossCRDDelete(t *testing.T) {
	s := startServer(t)
	k := newKubectl(t, s)
	applyCRDFile(t, s, k, "dooms.del.example.com", doomedCRD, dooms)
	ctx := context.Background()
	dc := dyn(t, s)
	rc := dc.Resource(dooms).Namespace("default")
	var rv string
	for i := range 3 {
		out, err := rc.Create(ctx, crObj(t, fmt.Sprintf(`{"apiVersion":"del.example.com/v1","kind":"Doom","metadata":{"name":"w%d"}}`, i)), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rv = out.GetResourceVersion()
	}
	w, err := rc.Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := dc.Resource(crdsResource).Delete(ctx, "dooms.del.example.com", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	timeout := time.After(10 * time.Second)
	for len(deleted) < 3 {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch ended after %v deleted", deleted)
			}
			if e.Type != watch.Deleted {
				t.Fatalf("event %s %v", e.Type, e.Object)
			}
			deleted = append(deleted, e.Object.(*unstructured.Unstructured).GetName())
		case <-timeout:
			t.Fatalf("deleted events %v after 10s", deleted)
		}
	}
	slices.Sort(deleted)
	if !slices.Equal(deleted, []string{"w0", "w1", "w2"}) {
		t.Errorf("deleted %v", deleted)
	}
	t.Run("the watch ends", func(t *testing.T) {
		select {
		case e, ok := <-w.ResultChan():
			if ok {
				t.Errorf("event after the deletes: %s %v", e.Type, e.Object)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("the watch is still open 10s after the CRD went")
		}
	})
}
