package admission_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/admission"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
)

// BenchmarkCreateNoConfigurations measures what the chain costs a create
// when no webhook or policy exists: the same creates of config maps
// through the registry's store over a real etcd, without a chain and with
// one (idle).
func BenchmarkCreateNoConfigurations(b *testing.B) {
	etcd := etcdtest.New(b)
	client := etcd.Client(b)
	reg, err := registry.New(registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(),
		Storage: server.EtcdStorage(server.EtcdConfig{Client: client, Prefix: "/bench"})})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if _, err := reg.Namespaces().Create(ctx, "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}, registry.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	chain, err := admission.New(admission.Config{Registry: reg, ReadyTimeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = chain.Run(ctx) }()
	defer func() { <-done }()
	cms, _ := reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"})
	run := func(b *testing.B, prefix string) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(prefix, i)}, Data: map[string]string{"k": "v"}}
			if _, err := cms.Create(ctx, "ns", cm, registry.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	for round := range 3 {
		b.Run("none", func(b *testing.B) { reg.SetAdmission(nil); run(b, fmt.Sprint("n", round, "-")) })
		b.Run("chain", func(b *testing.B) { reg.SetAdmission(chain); run(b, fmt.Sprint("c", round, "-")) })
	}
}
