//go:build opsload

package sizing_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/codec"
)

// TestLoad fills an etcd for measuring the operator commands (README,
// "Operating the etcd"): N pods (protobuf, as kube-apiserver stores them)
// under PREFIX/pods/ns-K/ on ENDPOINT, NODES nodes under PREFIX/minions/,
// or with BIG=1 N values of 1 MiB under PREFIX/configmaps/big/.
//
//	ENDPOINT=http://127.0.0.1:2379 PREFIX=/registry N=100000 go test -tags opsload ./internal/ops/sizing -run TestLoad
func TestLoad(t *testing.T) {
	ep, prefix := os.Getenv("ENDPOINT"), os.Getenv("PREFIX")
	n, _ := strconv.Atoi(os.Getenv("N"))
	nodes, _ := strconv.Atoi(os.Getenv("NODES"))
	big := os.Getenv("BIG") == "1"
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, MaxCallSendMsgSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pb, err := codec.New(codec.MediaTypeProtobuf, corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	var ops []clientv3.Op
	flush := func() {
		if len(ops) == 0 {
			return
		}
		if _, err := c.Txn(t.Context()).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
		ops = ops[:0]
	}
	for i := range n {
		if big {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(i*7 + j*13)
			}
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("%s/configmaps/big/cm-%06d", prefix, i), string(b)))
			flush() // etcd takes 1.5 MiB a request
			continue
		}
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("pod-", i), Namespace: fmt.Sprint("ns-", i%50), UID: "u",
			Labels: map[string]string{"app": "web", "tier": "frontend"}},
			Spec: corev1.PodSpec{NodeName: fmt.Sprint("node-", i%500), Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
				Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}}}}}}
		var buf bytes.Buffer
		if err := pb.Encode(p, &buf); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("%s/pods/%s/%s", prefix, p.Namespace, p.Name), buf.String()))
		if len(ops) == 100 {
			flush()
		}
	}
	for i := range nodes {
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("%s/minions/node-%d", prefix, i), "k8s\x00node"))
		if len(ops) == 100 {
			flush()
		}
	}
	flush()
}
