package apiserver_test

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// BenchmarkCreatePodCPUProtobuf is BenchmarkCreatePodCPU with client-go
// sending and asking for protobuf, as regis bench does by default:
//
//	go test ./internal/apiserver -run '^$' -bench CreatePodCPUProtobuf -benchtime 2000x -count 5
func BenchmarkCreatePodCPUProtobuf(b *testing.B) {
	s := startServer(b)
	cfg := rest.CopyConfig(s.config)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.Run("deployment-pod", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		before := cpuTime(b)
		for b.Loop() {
			if _, err := cs.CoreV1().Pods("default").Create(ctx, deploymentPod(fmt.Sprint("pb-", i)), metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/float64(b.N), "cpu-µs/op")
	})
}
