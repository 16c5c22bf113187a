package apiserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// TestCustomResourceReadyAfterInstall is what a controller-runtime test
// does first: start a server, install a CRD from a file, and wait until
// the new resource answers a list. It logs how long each step took (run
// with -v); the figures are measured, never asserted.
func TestCustomResourceReadyAfterInstall(t *testing.T) {
	start := time.Now()
	s := startServer(t)
	started := time.Since(start)

	path := filepath.Join(t.TempDir(), "crd.yaml")
	if err := os.WriteFile(path, []byte(gadgetCRD), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dc := dyn(t, s)
	// Install as envtest does: read the file, create the CRD.
	install := time.Now()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &crd.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := dc.Resource(crdsResource).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	created := time.Since(install)
	deadline := time.Now().Add(10 * time.Second)
	lists := 0
	for {
		lists++
		_, err := dc.Resource(gadgets).Namespace("default").List(ctx, listAll)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gadgets not served 10s after the CRD was created: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	ready := time.Since(install)
	// The first create of the resource, as a test's first step.
	if _, err := dc.Resource(gadgets).Namespace("default").Create(ctx, gadget("first", "red", 1, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	firstCreate := time.Since(install)
	t.Logf("server started in %v; CRD created in %v; list answered %v after the create (%d lists); first custom resource created %v after it",
		started.Round(time.Millisecond), created.Round(time.Millisecond), ready.Round(time.Millisecond), lists, firstCreate.Round(time.Millisecond))
}
