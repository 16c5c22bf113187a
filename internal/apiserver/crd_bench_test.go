package apiserver_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// payloadCRD holds a map of strings, as a ConfigMap's data.
const payloadCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: payloads.bench.example.com}
spec:
  group: bench.example.com
  scope: Namespaced
  names: {plural: payloads, singular: payload, kind: Payload}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          data: {type: object, additionalProperties: {type: string}}
`

var payloads = schema.GroupVersionResource{Group: "bench.example.com", Version: "v1", Resource: "payloads"}

// benchData is the data of every object: 10 keys of 100 bytes.
func benchData() map[string]string {
	d := map[string]string{}
	for i := range 10 {
		d[fmt.Sprintf("key-%02d", i)] = strings.Repeat(string(rune('a'+i)), 100)
	}
	return d
}

// BenchmarkCustomResourcesVsConfigMaps creates 5,000 custom resources and
// 5,000 ConfigMaps of the same data (10 keys of 100 bytes) through HTTP
// with 8 concurrent clients, then lists the 5,000 (resourceVersion "0",
// from the watch cache, and "", consistent), in one run. Custom resources
// go through the dynamic client (JSON, stored as JSON); ConfigMaps through
// the typed client (protobuf, stored as protobuf). Run with:
//
//	go test ./internal/apiserver -run '^$' -bench CustomResourcesVsConfigMaps -benchtime 3x
func BenchmarkCustomResourcesVsConfigMaps(b *testing.B) {
	const n, workers = 5000, 8
	s := startServer(b)
	cs := s.clientset(b)
	dc := dyn(b, s)
	ctx := context.Background()
	if _, err := dc.Resource(crdsResource).Create(ctx, yamlObj(b, payloadCRD), metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	waitServed(b, s)
	data := benchData()
	anyData := map[string]any{}
	for k, v := range data {
		anyData[k] = v
	}
	kinds := []struct {
		name   string
		create func(ns, name string) error
		list   func(ns, rv string) (int, error)
	}{
		{"customresources", func(ns, name string) error {
			u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "bench.example.com/v1", "kind": "Payload",
				"metadata": map[string]any{"name": name}, "data": anyData}}
			_, err := dc.Resource(payloads).Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
			return err
		}, func(ns, rv string) (int, error) {
			l, err := dc.Resource(payloads).Namespace(ns).List(ctx, metav1.ListOptions{ResourceVersion: rv})
			if err != nil {
				return 0, err
			}
			return len(l.Items), nil
		}},
		{"configmaps", func(ns, name string) error {
			_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}, metav1.CreateOptions{})
			return err
		}, func(ns, rv string) (int, error) {
			l, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{ResourceVersion: rv})
			if err != nil {
				return 0, err
			}
			return len(l.Items), nil
		}},
	}
	round := 0
	lastNS := map[string]string{}
	for _, kind := range kinds {
		b.Run("create5000/"+kind.name, func(b *testing.B) {
			for b.Loop() {
				round++
				ns := fmt.Sprintf("bench-%d", round)
				if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
					b.Fatal(err)
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				for range workers {
					wg.Go(func() {
						for i := next.Add(1) - 1; i < n; i = next.Add(1) - 1 {
							if err := kind.create(ns, fmt.Sprintf("obj-%05d", i)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				lastNS[kind.name] = ns
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
	for _, rv := range []string{"0", ""} {
		label := "rv=" + rv
		if rv == "" {
			label = "rv=empty"
		}
		for _, kind := range kinds {
			b.Run("list5000/"+kind.name+"/"+label, func(b *testing.B) {
				ns := lastNS[kind.name]
				if ns == "" {
					b.Skip("no objects created (run the create benchmark too)")
				}
				for b.Loop() {
					got, err := kind.list(ns, rv)
					if err != nil || got != n {
						b.Fatalf("list: %d items, %v", got, err)
					}
				}
			})
		}
	}
}

// yamlObj parses one YAML document.
func yamlObj(t testing.TB, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// waitServed waits until payloads answer a list.
func waitServed(t testing.TB, s *testServer) {
	t.Helper()
	dc := dyn(t, s)
	eventually(t, "payloads served", func() error {
		_, err := dc.Resource(payloads).List(context.Background(), listAll)
		return err
	})
}
