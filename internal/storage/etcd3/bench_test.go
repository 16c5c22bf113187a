package etcd3_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

// benchPod is a pod of a realistic size (about 1.3 KiB in protobuf).
func benchPod(ns, name string) *corev1.Pod {
	p := pod(ns, name, map[string]string{"app": "bench", "tier": "backend", "pod-template-hash": "7d4b9c8f6"})
	p.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-11-24T12:00:00Z"}
	p.Spec.Containers[0].Args = []string{"--listen=:8080", "--log-level=info", strings.Repeat("x", 600)}
	p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", HostIP: "192.168.0.1",
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	return p
}

// rawValue is the stored bytes of benchPod, for the raw etcd baseline.
func rawValue(b *testing.B) string {
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		b.Fatal(err)
	}
	data, err := runtime.Encode(c, benchPod("bench", "raw"))
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

var benchSeq atomic.Int64

// BenchmarkStore compares each store operation with the raw etcd call it
// makes, on a value of the same size, in one run:
//
//	go test ./internal/storage/etcd3 -run '^$' -bench BenchmarkStore -benchtime 2000x -count 5
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	f := newStore(b, "")
	val := rawValue(b)
	b.Logf("pod value: %d bytes", len(val))

	b.Run("Create", func(b *testing.B) {
		for b.Loop() {
			n := benchSeq.Add(1)
			if err := f.store.Create(ctx, key("bench", fmt.Sprint("c", n)), benchPod("bench", fmt.Sprint("c", n)), nil, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateReturned", func(b *testing.B) {
		// As the registry calls it: a pod as a create request leaves it
		// (managedFields, resources, probes), and the stored object
		// returned. cpu-ns/op is the process's CPU (the embedded etcd's
		// included) per create.
		start := processCPU(b)
		for b.Loop() {
			n := benchSeq.Add(1)
			if err := f.store.Create(ctx, key("bench", fmt.Sprint("r", n)), etcd3.CreatedPod("bench", fmt.Sprint("r", n)), &corev1.Pod{}, 0); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
	})
	b.Run("RawCreateTxn", func(b *testing.B) {
		// Create is one compare-and-swap txn requiring the key to be absent.
		for b.Loop() {
			k := fmt.Sprintf("%s/raw/bench/p%d", f.prefix, benchSeq.Add(1))
			if _, err := f.client.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", 0)).Then(clientv3.OpPut(k, val)).Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})

	if err := f.store.Create(ctx, key("bench", "g"), benchPod("bench", "g"), nil, 0); err != nil {
		b.Fatal(err)
	}
	if _, err := f.client.Put(ctx, f.prefix+"/raw/bench/g", val); err != nil {
		b.Fatal(err)
	}
	b.Run("Get", func(b *testing.B) {
		for b.Loop() {
			if err := f.store.Get(ctx, key("bench", "g"), storage.GetOptions{}, &corev1.Pod{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RawGet", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.client.Get(ctx, f.prefix+"/raw/bench/g"); err != nil {
				b.Fatal(err)
			}
		}
	})

	i := 0
	b.Run("GuaranteedUpdate", func(b *testing.B) {
		for b.Loop() {
			i++
			if err := f.store.GuaranteedUpdate(ctx, key("bench", "g"), &corev1.Pod{}, false, nil, setLabel("i", fmt.Sprint(i)), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RawTxnPut", func(b *testing.B) {
		// An update is one read (above: RawGet) and one compare-and-swap txn.
		for b.Loop() {
			resp, err := f.client.Get(ctx, f.prefix+"/raw/bench/g")
			if err != nil {
				b.Fatal(err)
			}
			k := f.prefix + "/raw/bench/g"
			if _, err := f.client.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", resp.Kvs[0].ModRevision)).Then(clientv3.OpPut(k, val)).Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetList5000 lists 5,000 pods through the store and as one raw
// range of the same values:
//
//	go test ./internal/storage/etcd3 -run '^$' -bench BenchmarkGetList5000 -benchtime 20x -count 5
func BenchmarkGetList5000(b *testing.B) {
	ctx := context.Background()
	f := newStore(b, "")
	val := rawValue(b)
	const n = 5000
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("p%05d", i)
		if err := f.store.Create(ctx, key("list", name), benchPod("list", name), nil, 0); err != nil {
			b.Fatal(err)
		}
		if _, err := f.client.Put(ctx, fmt.Sprintf("%s/raw/list/%s", f.prefix, name), val); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("GetList", func(b *testing.B) {
		for b.Loop() {
			list := &corev1.PodList{}
			if err := f.store.GetList(ctx, "/pods/list", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, list); err != nil {
				b.Fatal(err)
			}
			if len(list.Items) != n {
				b.Fatalf("%d items", len(list.Items))
			}
		}
	})
	b.Run("RawRange", func(b *testing.B) {
		for b.Loop() {
			resp, err := f.client.Get(ctx, f.prefix+"/raw/list/", clientv3.WithPrefix())
			if err != nil {
				b.Fatal(err)
			}
			if len(resp.Kvs) != n {
				b.Fatalf("%d kvs", len(resp.Kvs))
			}
		}
	})
}

// processCPU is the CPU time of the test process so far (user and system).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
