package apiserver_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodLogFromKubelet: the log of a pod on a node whose kubelet answers
// is that kubelet's containerLogs, streamed; the log of a pod no node
// runs is empty (204), as upstream's.
func TestPodLogFromKubelet(t *testing.T) {
	kubelet := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/containerLogs/default/onnode/c" || r.URL.Query().Get("tailLines") != "2" {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusNotFound)
			return
		}
		io.WriteString(w, "line 1\nline 2\n")
	}))
	defer kubelet.Close()
	_, portStr, _ := net.SplitHostPort(kubelet.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)

	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "kubelet-node"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := cs.CoreV1().Pods("default")
	p := testPod("onnode")
	p.Spec.NodeName = "kubelet-node"
	if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tail := int64(2)
	got, err := pods.GetLogs("onnode", &corev1.PodLogOptions{TailLines: &tail}).DoRaw(ctx)
	if err != nil || string(got) != "line 1\nline 2\n" {
		t.Errorf("log: %q, %v", got, err)
	}

	if _, err := pods.Create(ctx, testPod("nonode"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var code int
	res := pods.GetLogs("nonode", &corev1.PodLogOptions{}).Do(ctx).StatusCode(&code)
	if err := res.Error(); err != nil || code != http.StatusNoContent {
		t.Errorf("log of a pod no node runs: %d, %v", code, err)
	}
}
