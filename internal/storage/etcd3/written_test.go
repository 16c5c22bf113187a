package etcd3_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

// TestWritesReturnWhatIsStored holds the object Create and
// GuaranteedUpdate return (the written object, not a decode of it, for
// protobuf and custom resources) to a Get of what etcd stored, in every
// storage media type.
func TestWritesReturnWhatIsStored(t *testing.T) {
	ctx := context.Background()
	nanos := metav1.NewTime(time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC))
	for _, mt := range []string{"", "application/json", "application/yaml", "application/cbor"} {
		t.Run("pods "+mt, func(t *testing.T) {
			f := newStore(t, mt)
			p := etcd3.CreatedPod("ns", "p")
			p.Finalizers, p.Annotations = []string{}, map[string]string{}
			p.ManagedFields[0].Time = &nanos
			p.Spec.Containers[0].Args = []string{}
			p.Spec.Overhead = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000m")}
			out := &corev1.Pod{}
			if err := f.store.Create(ctx, key("ns", "p"), p, out, 0); err != nil {
				t.Fatal(err)
			}
			sameAsStored(t, f.store, key("ns", "p"), out, &corev1.Pod{})

			upd := &corev1.Pod{}
			err := f.store.GuaranteedUpdate(ctx, key("ns", "p"), upd, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
				p := in.(*corev1.Pod)
				p.Labels["x"] = "y"
				p.Spec.Tolerations = []corev1.Toleration{}
				p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, LastTransitionTime: nanos})
				return p, nil, nil
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			sameAsStored(t, f.store, key("ns", "p"), upd, &corev1.Pod{})
			if upd.ResourceVersion == out.ResourceVersion || upd.Labels["x"] != "y" {
				t.Fatalf("update returned %s %v", upd.ResourceVersion, upd.Labels)
			}

			// An update that changes nothing writes nothing and returns
			// the stored object, with or without a cached suggestion.
			for _, cached := range []runtime.Object{nil, upd.DeepCopy()} {
				noop := &corev1.Pod{}
				err = f.store.GuaranteedUpdate(ctx, key("ns", "p"), noop, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
					p := in.(*corev1.Pod)
					p.Spec.Tolerations = []corev1.Toleration{} // encodes as nil does
					return p, nil, nil
				}, cached)
				if err != nil {
					t.Fatal(err)
				}
				sameAsStored(t, f.store, key("ns", "p"), noop, &corev1.Pod{})
				if noop.ResourceVersion != upd.ResourceVersion {
					t.Fatalf("a no-op update wrote: %s, was %s", noop.ResourceVersion, upd.ResourceVersion)
				}
			}
		})
	}
	t.Run("custom resources", func(t *testing.T) {
		s, err := etcd3.New(etcd3.Config{
			Client:         srv.Client(t),
			Codec:          codec.NewCustom(schema.GroupVersion{Group: "example.com", Version: "v1"}),
			NewFunc:        func() runtime.Object { return &unstructured.Unstructured{} },
			NewListFunc:    func() runtime.Object { return &unstructured.UnstructuredList{} },
			Prefix:         "/written-cr",
			ResourcePrefix: "/example.com/widgets",
			GroupResource:  schema.GroupResource{Group: "example.com", Resource: "widgets"},
			Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		w := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v2", "kind": "Widget",
			"metadata": map[string]any{"name": "w", "namespace": "ns", "labels": map[string]any{}},
			"spec":     map[string]any{"replicas": 3.0, "ratio": 0.5, "big": 1e21, "list": []any{}, "null": []any(nil), "nested": []any{1.0, map[string]any{}}},
		}}
		out := &unstructured.Unstructured{}
		if err := s.Create(ctx, "/example.com/widgets/ns/w", w, out, 0); err != nil {
			t.Fatal(err)
		}
		sameAsStored(t, s, "/example.com/widgets/ns/w", out, &unstructured.Unstructured{})
		if out.GetAPIVersion() != "example.com/v1" || out.Object["spec"].(map[string]any)["replicas"] != int64(3) {
			t.Fatalf("returned %v", out.Object)
		}
		upd := &unstructured.Unstructured{}
		err = s.GuaranteedUpdate(ctx, "/example.com/widgets/ns/w", upd, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			u := in.(*unstructured.Unstructured)
			u.Object["status"] = map[string]any{"ready": 2.0}
			return u, nil, nil
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sameAsStored(t, s, "/example.com/widgets/ns/w", upd, &unstructured.Unstructured{})
	})
}

func sameAsStored(t *testing.T, s *etcd3.Store, key string, returned, fresh runtime.Object) {
	t.Helper()
	if err := s.Get(context.Background(), key, storage.GetOptions{}, fresh); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(returned, fresh) {
		t.Fatalf("returned object differs from what is stored (-stored +returned):\n%s",
			cmp.Diff(fresh, returned, cmp.Exporter(func(reflect.Type) bool { return true })))
	}
}
