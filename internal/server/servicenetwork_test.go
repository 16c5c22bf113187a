package server_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/server"
)

func (f *full) client(t *testing.T) kubernetes.Interface {
	t.Helper()
	return kubernetes.NewForConfigOrDie(&rest.Config{Host: f.info.URL, QPS: -1, TLSClientConfig: rest.TLSClientConfig{
		CAData: f.info.CAData, CertData: f.info.ClientCertData, KeyData: f.info.ClientKeyData}})
}

// TestServiceNetworkFlags: --service-cluster-ip-range and
// --service-node-port-range place the kubernetes service, the default
// ServiceCIDR and every allocation; a restart with another node port
// range keeps the ports services hold and allocates from the new range.
func TestServiceNetworkFlags(t *testing.T) {
	dir := t.TempDir()
	nodePort := func(c kubernetes.Interface, name string) (int32, error) {
		svc, err := c.CoreV1().Services("default").Create(t.Context(), &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}},
		}, metav1.CreateOptions{})
		if err != nil {
			return 0, err
		}
		return svc.Spec.Ports[0].NodePort, nil
	}
	f := startFull(t, func(o *server.Options) {
		o.DataDir, o.ServiceClusterIPRange, o.ServiceNodePortRange = dir, "10.96.0.0/12", "31000-31001"
	})
	c := f.client(t)
	k, err := c.CoreV1().Services("default").Get(t.Context(), "kubernetes", metav1.GetOptions{})
	if err != nil || k.Spec.ClusterIP != "10.96.0.1" {
		t.Fatalf("kubernetes service: %v %v", k, err)
	}
	cidr, err := c.NetworkingV1().ServiceCIDRs().Get(t.Context(), "kubernetes", metav1.GetOptions{})
	if err != nil || len(cidr.Spec.CIDRs) != 1 || cidr.Spec.CIDRs[0] != "10.96.0.0/12" {
		t.Fatalf("default ServiceCIDR: %v %v", cidr, err)
	}
	held := map[int32]bool{}
	for _, name := range []string{"a", "b"} {
		p, err := nodePort(c, name)
		if err != nil || p < 31000 || p > 31001 || held[p] {
			t.Fatalf("service %s: node port %d, %v", name, p, err)
		}
		held[p] = true
	}
	if p, err := nodePort(c, "full"); err == nil {
		t.Fatalf("a third node port %d from a range of two", p)
	}
	_, err = c.CoreV1().Services("default").Create(t.Context(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "out"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30000}}},
	}, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "The range of valid ports is 31000-31001") {
		t.Fatalf("node port outside the range: %v", err)
	}
	svc, err := c.CoreV1().Services("default").Create(t.Context(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "ip"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil || !netip.MustParsePrefix("10.96.0.0/12").Contains(netip.MustParseAddr(svc.Spec.ClusterIP)) {
		t.Fatalf("cluster IP from 10.96.0.0/12: %v %v", svc, err)
	}
	f.stop()
	select {
	case err := <-f.done:
		f.done <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}

	f = startFull(t, func(o *server.Options) {
		o.DataDir, o.ServiceClusterIPRange, o.ServiceNodePortRange = dir, "10.96.0.0/12", "32000-32001"
	})
	c = f.client(t)
	p, err := nodePort(c, "c")
	if err != nil || p < 32000 || p > 32001 {
		t.Fatalf("after the restart: node port %d, %v", p, err)
	}
	for _, name := range []string{"a", "b"} {
		s, err := c.CoreV1().Services("default").Get(t.Context(), name, metav1.GetOptions{})
		if err != nil || !held[s.Spec.Ports[0].NodePort] {
			t.Fatalf("service %s after the restart: %v %v", name, s, err)
		}
	}
}
