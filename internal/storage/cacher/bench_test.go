package cacher_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// Benchmarks of the issue: lists from the cache against etcd, fan-out,
// and memory per cached pod. They use real etcd and take seconds; run
// them with -benchtime=1x for (b) and (c), e.g.
//
//	go test ./internal/storage/cacher -run '^$' -bench . -benchtime=1x

// realisticPod is a pod as a Deployment's ReplicaSet makes it, scheduled
// and running, with managed fields: about 4 KB of protobuf.
func realisticPod(i int) *corev1.Pod {
	ts := metav1.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	app := fmt.Sprintf("web-%d", i%200)
	rs := app + "-5d8f7c9b4"
	uid := func(n int) types.UID {
		return types.UID(fmt.Sprintf("%08x-1111-4222-8333-%012x", n, i))
	}
	fields := func(s string) *metav1.FieldsV1 { return &metav1.FieldsV1{Raw: []byte(s)} }
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              fmt.Sprintf("%s-%05d", rs, i),
			GenerateName:      rs + "-",
			Namespace:         fmt.Sprintf("ns-%d", i%50),
			UID:               uid(1),
			CreationTimestamp: ts,
			Labels:            map[string]string{"app": app, "pod-template-hash": "5d8f7c9b4", "tier": "frontend"},
			Annotations:       map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: uid(2),
				Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &ts, FieldsType: "FieldsV1",
					FieldsV1: fields(`{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/restartedAt":{}},"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{},"f:tier":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"` + string(uid(2)) + `\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:env":{".":{},"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}},"f:readinessProbe":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}`)},
				{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &ts, FieldsType: "FieldsV1", Subresource: "status",
					FieldsV1: fields(`{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Initialized\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},"f:containerStatuses":{},"f:hostIP":{},"f:hostIPs":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"10.0.0.1\"}":{".":{},"f:ip":{}}},"f:startTime":{}}}`)},
			},
		},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr(int64(3607)), Path: "token"}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
					{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
				},
				DefaultMode: ptr(int32(420)),
			}}}},
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "registry.example.com/team/web:1.24.3",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Env: []corev1.EnvVar{{Name: "MODE", Value: "production"},
					{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
				VolumeMounts:             []corev1.VolumeMount{{Name: "kube-api-access-x7k2p", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}},
				ReadinessProbe:           &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}}, PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
				TerminationMessagePath:   "/dev/termination-log",
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				ImagePullPolicy:          corev1.PullIfNotPresent,
			}},
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ptr(int64(30)),
			DNSPolicy:                     corev1.DNSClusterFirst,
			ServiceAccountName:            "default",
			DeprecatedServiceAccount:      "default",
			NodeName:                      fmt.Sprintf("node-%03d", i%500),
			SecurityContext:               &corev1.PodSecurityContext{},
			SchedulerName:                 "default-scheduler",
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
			},
			Priority:           ptr(int32(0)),
			EnableServiceLinks: ptr(true),
			PreemptionPolicy:   ptr(corev1.PreemptLowerPriority),
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: ts},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: ts},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: ts},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: ts},
			},
			HostIP:    fmt.Sprintf("192.168.%d.%d", i%500/250, i%250),
			HostIPs:   []corev1.HostIP{{IP: fmt.Sprintf("192.168.%d.%d", i%500/250, i%250)}},
			PodIP:     fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			PodIPs:    []corev1.PodIP{{IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}},
			StartTime: &ts,
			ContainerStatuses: []corev1.ContainerStatus{{
				Name:         "web",
				State:        corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ts}},
				Ready:        true,
				Image:        "registry.example.com/team/web:1.24.3",
				ImageID:      "registry.example.com/team/web@sha256:4f53e1a9b7c2d8e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b",
				ContainerID:  fmt.Sprintf("containerd://%064x", i),
				Started:      ptr(true),
				RestartCount: 0,
			}},
			QOSClass: corev1.PodQOSBurstable,
		},
	}
}

func ptr[T any](v T) *T { return &v }

// startCacher runs a pods cacher over store until the benchmark ends, and
// waits until it is ready.
func startCacher(b testing.TB, store storage.Interface) *cacher.Cacher {
	b.Helper()
	c, err := cacher.New(cacher.Config{
		Store:          store,
		ResourcePrefix: "/pods",
		GroupResource:  schema.GroupResource{Resource: "pods"},
		NewFunc:        func() kruntime.Object { return &corev1.Pod{} },
		NewListFunc:    func() kruntime.Object { return &corev1.PodList{} },
		GetAttrs:       podAttrs,
		IndexedFields:  []string{"spec.nodeName"},
		TriggerField:   "spec.nodeName",
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer wcancel()
	if err := c.WaitReady(wctx); err != nil {
		b.Fatal(err)
	}
	return c
}

// seedPods writes n realistic pods straight into etcd under the fixture's
// prefix (batched transactions), as the store would store them, and
// returns their average stored (protobuf) size.
func seedPods(b testing.TB, client *clientv3.Client, enc kruntime.Encoder, prefix string, n int) int {
	b.Helper()
	total := 0
	const batch = 100
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var mu sync.Mutex
	for start := 0; start < n; start += batch {
		var ops []clientv3.Op
		for i := start; i < min(start+batch, n); i++ {
			p := realisticPod(i)
			data, err := kruntime.Encode(enc, p)
			if err != nil {
				b.Fatal(err)
			}
			total += len(data)
			ops = append(ops, clientv3.OpPut(prefix+"/pods/"+p.Namespace+"/"+p.Name, string(data)))
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := client.Txn(context.Background()).Then(ops...).Commit(); err != nil {
				mu.Lock()
				defer mu.Unlock()
				b.Error(err)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return total / n
}

// BenchmarkListPods5000 lists 5,000 pods: from the cache at RV "0", and
// consistently from etcd (what a list costs without the cache); "ratio"
// alternates the two and reports how many times faster the cache is.
func BenchmarkListPods5000(b *testing.B) {
	f := newFixture(b)
	f.stop() // the cache benchmarked lists the seeded pods (seeded in batches, 100 per revision)
	protoSize := seedPods(b, f.client, f.codec, f.prefix, 5000)
	c := startCacher(b, f.store)
	ctx := context.Background()
	if l := listAll(b, c, ""); len(l.Items) != 5000 {
		b.Fatalf("cache has %d pods", len(l.Items))
	}
	fromCache := func() {
		l := &corev1.PodList{}
		if err := c.GetList(ctx, "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true, Predicate: storage.Everything}, l); err != nil || len(l.Items) != 5000 {
			b.Fatalf("cache list: %v (%d items)", err, len(l.Items))
		}
	}
	fromEtcd := func() {
		l := &corev1.PodList{}
		if err := f.store.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, l); err != nil || len(l.Items) != 5000 {
			b.Fatalf("etcd list: %v (%d items)", err, len(l.Items))
		}
	}
	b.Run("from=cache/rv=0", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fromCache()
		}
	})
	b.Run("from=cache/rv=0/objects", func(b *testing.B) {
		// ListObjects: the shared objects, for a streaming encoder.
		b.ReportAllocs()
		for b.Loop() {
			l, err := c.ListObjects(ctx, "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true, Predicate: storage.Everything})
			if err != nil || len(l.Items) != 5000 {
				b.Fatalf("cache list: %v", err)
			}
		}
	})
	b.Run("from=etcd/consistent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fromEtcd()
		}
	})
	b.Run("ratio", func(b *testing.B) {
		var inCache, inEtcd time.Duration
		for b.Loop() {
			start := time.Now()
			fromCache()
			inCache += time.Since(start)
			start = time.Now()
			fromEtcd()
			inEtcd += time.Since(start)
		}
		b.ReportMetric(float64(inCache.Microseconds())/float64(b.N), "cache-µs/list")
		b.ReportMetric(float64(inEtcd.Microseconds())/float64(b.N), "etcd-µs/list")
		b.ReportMetric(float64(inEtcd)/float64(inCache), "etcd/cache")
		b.ReportMetric(float64(protoSize), "proto-B/pod")
	})
}

func listAll(b testing.TB, s storage.Interface, rv string) *corev1.PodList {
	b.Helper()
	l := &corev1.PodList{}
	if err := s.GetList(context.Background(), "/pods", storage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: storage.Everything}, l); err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkFanout1000Watchers1000Updates has 1,000 watchers of all pods
// receive 1,000 updates (8 writers, each updating its own pod): it reports
// the events delivered per second, the latency from the start of a write
// to its receipt by a watcher (p50, p99, max), and the watchers the cache
// closed as too slow (they would relist), for regis's cache and for
// kube-apiserver's on the same etcd.
func BenchmarkFanout1000Watchers1000Updates(b *testing.B) {
	b.Run("impl=regis", func(b *testing.B) { benchmarkFanout(b, regisTarget(b)) })
	b.Run("impl=kube-apiserver", func(b *testing.B) { benchmarkFanout(b, upstreamTarget(b)) })
}

func benchmarkFanout(b *testing.B, target fanoutTarget) {
	const (
		watchers = 1000
		writers  = 8
		updates  = 1000
	)
	for w := range writers {
		if err := target.create(fmt.Sprintf("hot-%d", w)); err != nil {
			b.Fatal(err)
		}
	}
	rv, err := target.listRV()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ws := make([]watch.Interface, watchers)
		lat := make([][]time.Duration, watchers)
		ends := make([]time.Time, watchers)
		var wg sync.WaitGroup
		for i := range ws {
			w, err := target.watch(rv)
			if err != nil {
				b.Fatal(err)
			}
			ws[i] = w
			lat[i] = make([]time.Duration, 0, updates)
			wg.Go(func() {
				for ev := range w.ResultChan() {
					if ev.Type == watch.Error {
						return // ended by the cache: counted below
					}
					sent, err := strconv.ParseInt(annotation(ev.Object, "sent"), 10, 64)
					if err != nil {
						continue
					}
					now := time.Now()
					lat[i] = append(lat[i], now.Sub(time.Unix(0, sent)))
					if len(lat[i]) == updates {
						ends[i] = now
						return
					}
				}
			})
		}
		start := time.Now()
		var writes sync.WaitGroup
		for w := range writers {
			writes.Go(func() {
				for range updates / writers {
					err := target.update(fmt.Sprintf("hot-%d", w), func(p *corev1.Pod) {
						p.Annotations = map[string]string{"sent": strconv.FormatInt(time.Now().UnixNano(), 10)}
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		writes.Wait()
		writeTime := time.Since(start)
		wg.Wait()
		for _, w := range ws {
			w.Stop()
		}
		var all []time.Duration
		ended := 0 // watchers the cache closed before they had every update
		for i, l := range lat {
			all = append(all, l...)
			if len(l) < updates {
				ended++
				ends[i] = time.Now()
			}
		}
		slices.Sort(all)
		end := slices.MaxFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
		b.ReportMetric(float64(ended), "watchers-closed")
		b.ReportMetric(float64(len(all))/float64(watchers*updates)*100, "%delivered")
		b.ReportMetric(float64(len(all))/end.Sub(start).Seconds(), "events/s")
		b.ReportMetric(float64(updates)/writeTime.Seconds(), "writes/s")
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-ms")
	}
}

// BenchmarkCachedPodMemory50000 measures the heap the cache holds for
// 50,000 realistic pods (runtime.MemStats, after a list), per pod, against
// the pod's protobuf size in etcd.
func BenchmarkCachedPodMemory50000(b *testing.B) {
	const pods = 50000
	f := newFixture(b)
	f.stop() // only its store and prefix are used: the cache measured is another
	protoSize := seedPods(b, f.client, f.codec, f.prefix, pods)
	for b.Loop() {
		heap := func() uint64 {
			var m runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		before := heap()
		c := startCacher(b, f.store)
		after := heap()
		perPod := float64(after-before) / pods
		runtime.KeepAlive(c)
		b.ReportMetric(perPod, "heap-B/pod")
		b.ReportMetric(float64(protoSize), "proto-B/pod")
		b.ReportMetric(perPod/float64(protoSize), "heap/proto")
	}
}
