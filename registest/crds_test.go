package registest_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/regis-dev/regis/registest"
)

// TestStartWithCRDs installs a CRD from a directory, as envtest's
// CRDDirectoryPaths, and uses its resource as a controller would.
func TestStartWithCRDs(t *testing.T) {
	start := time.Now()
	srv, err := registest.Start(t.Context(), registest.Options{CRDs: []string{"testdata"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	t.Logf("ready with the CRD served in %v", time.Since(start))
	dc := dynamic.NewForConfigOrDie(srv.Config())
	widgets := dc.Resource(schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}).Namespace("default")
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w"}, "spec": map[string]any{"color": "blue"},
	}}
	got, err := widgets.Create(t.Context(), w, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size"); size != 3 {
		t.Errorf("spec.size %d, want the default 3", size)
	}
}
