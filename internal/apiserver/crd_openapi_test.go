package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestCustomResourceOpenAPIConcurrent reads the OpenAPI v3 documents of
// several CRDs' groups at once, as kubectl does before an apply: each
// answers its group's schema. Run with -race: the documents are built
// lazily, from definitions shared between groups.
func TestCustomResourceOpenAPIConcurrent(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	dc := dyn(t, s)
	const groups = 4
	for i := range groups {
		body := fmt.Sprintf(`{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"items.g%d.example.com"},
"spec":{"group":"g%d.example.com","scope":"Namespaced","names":{"plural":"items","singular":"item","kind":"Item"},
 "versions":[{"name":"v1","served":true,"storage":true,
  "schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"n":{"type":"integer"}}}}}}}]}}`, i, i)
		if _, err := dc.Resource(crdsResource).Create(ctx, crObj(t, body), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitEstablished(t, s, fmt.Sprintf("items.g%d.example.com", i), schema.GroupVersionResource{Group: fmt.Sprintf("g%d.example.com", i), Version: "v1", Resource: "items"})
	}
	rc := s.clientset(t).RESTClient()
	eventually(t, "every group in /openapi/v3", func() error {
		body, err := rc.Get().AbsPath("/openapi/v3").DoRaw(ctx)
		if err != nil {
			return err
		}
		var index struct {
			Paths map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(body, &index); err != nil {
			return err
		}
		for i := range groups {
			if _, ok := index.Paths[fmt.Sprintf("apis/g%d.example.com/v1", i)]; !ok {
				return fmt.Errorf("no apis/g%d.example.com/v1 in /openapi/v3", i)
			}
		}
		return nil
	})
	paths := []string{"/openapi/v3/api/v1", "/openapi/v3/apis/apps/v1", "/openapi/v3/apis/apiextensions.k8s.io/v1"}
	for i := range groups {
		paths = append(paths, fmt.Sprintf("/openapi/v3/apis/g%d.example.com/v1", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(paths)*2)
	for range 2 {
		for _, p := range paths {
			wg.Go(func() {
				body, err := rc.Get().AbsPath(p).DoRaw(ctx)
				if err != nil {
					errs <- fmt.Errorf("%s: %v", p, err)
					return
				}
				var doc struct {
					Components struct {
						Schemas map[string]any `json:"schemas"`
					} `json:"components"`
				}
				if err := json.Unmarshal(body, &doc); err != nil || len(doc.Components.Schemas) == 0 {
					errs <- fmt.Errorf("%s: %v, %d schemas", p, err, len(doc.Components.Schemas))
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
