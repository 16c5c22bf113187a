package apiserver_test

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
)

// rawObject reads and decodes the value of a store key ("/ipaddresses/x")
// of the test's server straight from etcd.
func rawObject(t *testing.T, key string) ([]byte, runtime.Object) {
	t.Helper()
	prefix := "/" + strings.ReplaceAll(strings.Split(t.Name(), "/")[0], "/", "_")
	resp, err := shared.Client(t).Get(t.Context(), prefix+key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 {
		return nil, nil
	}
	obj, _, err := codec.Deserializer().Decode(resp.Kvs[0].Value, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return resp.Kvs[0].Value, obj
}

// upstreamBytes encodes obj as kube-apiserver stores it: apimachinery's
// protobuf serializer (the k8s\0 envelope) at its group-version.
func upstreamBytes(t *testing.T, obj runtime.Object) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), obj.GetObjectKind().GroupVersionKind().GroupVersion())
	if err := enc.Encode(obj, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestServiceAllocationStorage checks what a fresh server and a service
// write: the default ServiceCIDR, the node port bitmap and one IPAddress
// per cluster IP, byte for byte as kube-apiserver 1.37 writes them.
func TestServiceAllocationStorage(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()

	// The kubernetes service's address.
	raw, obj := rawObject(t, "/ipaddresses/10.0.0.1")
	ip, ok := obj.(*networkingv1.IPAddress)
	if !ok {
		t.Fatalf("/ipaddresses/10.0.0.1 holds %T", obj)
	}
	kube, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := &networkingv1.IPAddress{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "IPAddress"},
		ObjectMeta: metav1.ObjectMeta{Name: "10.0.0.1", UID: ip.UID, CreationTimestamp: ip.CreationTimestamp,
			Labels: map[string]string{"ipaddress.kubernetes.io/ip-family": "IPv4", "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io"}},
		Spec: networkingv1.IPAddressSpec{ParentRef: &networkingv1.ParentReference{Resource: "services", Namespace: "default", Name: "kubernetes"}},
	}
	if ip.UID == "" || ip.CreationTimestamp.IsZero() {
		t.Errorf("IPAddress lacks uid or creationTimestamp: %+v", ip.ObjectMeta)
	}
	if got := upstreamBytes(t, want); !bytes.Equal(raw, got) {
		t.Errorf("stored IPAddress differs from kube-apiserver's encoding:\n got %q\nwant %q", raw, got)
	}
	if kube.Spec.ClusterIP != "10.0.0.1" {
		t.Errorf("kubernetes service has cluster IP %s", kube.Spec.ClusterIP)
	}

	// The default ServiceCIDR.
	raw, obj = rawObject(t, "/servicecidrs/kubernetes")
	sc, ok := obj.(*networkingv1.ServiceCIDR)
	if !ok {
		t.Fatalf("/servicecidrs/kubernetes holds %T", obj)
	}
	if len(sc.Status.Conditions) != 1 {
		t.Fatalf("servicecidr conditions %+v", sc.Status.Conditions)
	}
	wantSC := &networkingv1.ServiceCIDR{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "ServiceCIDR"},
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", UID: sc.UID, CreationTimestamp: sc.CreationTimestamp},
		Spec:       networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.0.0.0/24"}},
		Status: networkingv1.ServiceCIDRStatus{Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue,
			Message: "Kubernetes default Service CIDR is ready", LastTransitionTime: sc.Status.Conditions[0].LastTransitionTime}}},
	}
	if got := upstreamBytes(t, wantSC); !bytes.Equal(raw, got) {
		t.Errorf("stored ServiceCIDR differs from kube-apiserver's encoding:\n got %q\nwant %q", raw, got)
	}
	if _, err := cs.NetworkingV1().ServiceCIDRs().Get(ctx, "kubernetes", metav1.GetOptions{}); err != nil {
		t.Errorf("GET servicecidrs/kubernetes: %v", err)
	}

	// The node port bitmap, empty at first.
	raw, obj = rawObject(t, "/ranges/servicenodeports")
	ra, ok := obj.(*corev1.RangeAllocation)
	if !ok {
		t.Fatalf("/ranges/servicenodeports holds %T", obj)
	}
	wantRA := &corev1.RangeAllocation{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "RangeAllocation"}, Range: "30000-32767", Data: []byte{}}
	if got := upstreamBytes(t, wantRA); !bytes.Equal(raw, got) {
		t.Errorf("stored RangeAllocation differs from kube-apiserver's encoding:\n got %q\nwant %q", raw, got)
	}
	_ = ra

	// A NodePort service: its IPAddress and its bit.
	svc, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "fixed", Port: 81, NodePort: 30080}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, obj = rawObject(t, "/ipaddresses/"+svc.Spec.ClusterIP)
	if ip, ok := obj.(*networkingv1.IPAddress); !ok || ip.Spec.ParentRef == nil || ip.Spec.ParentRef.Name != "web" || ip.Spec.ParentRef.Namespace != "default" {
		t.Fatalf("IPAddress of %s: %#v", svc.Spec.ClusterIP, obj)
	}
	bits := func() *big.Int {
		_, obj := rawObject(t, "/ranges/servicenodeports")
		return new(big.Int).SetBytes(obj.(*corev1.RangeAllocation).Data)
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort < 30000 || bits().Bit(int(p.NodePort-30000)) != 1 {
			t.Errorf("node port %d not marked in the bitmap", p.NodePort)
		}
	}
	if svc.Spec.Ports[1].NodePort != 30080 {
		t.Errorf("asked-for node port: got %d", svc.Spec.Ports[1].NodePort)
	}

	// Taken address and port: 422 with upstream's messages.
	_, err = cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "same-ip"},
		Spec: corev1.ServiceSpec{ClusterIP: svc.Spec.ClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "provided IP is already allocated") {
		t.Errorf("same cluster IP: %v", err)
	}
	_, err = cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "same-port"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "provided port is already allocated") {
		t.Errorf("same node port: %v", err)
	}
	// A failed create released its address.
	if n := countIPAddresses(t, s); n != 2 {
		t.Errorf("%d IPAddresses after the failed creates, want 2", n)
	}

	// Deleting the service releases both.
	if err := cs.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if raw, _ := rawObject(t, "/ipaddresses/"+svc.Spec.ClusterIP); raw != nil {
		t.Errorf("IPAddress %s outlived its service", svc.Spec.ClusterIP)
	}
	if b := bits(); b.Sign() != 0 {
		t.Errorf("node ports still marked after the delete: %x", b.Bytes())
	}
}

func countIPAddresses(t *testing.T, s *testServer) int {
	t.Helper()
	l, err := s.clientset(t).NetworkingV1().IPAddresses().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

// TestServiceAllocationAcrossServers creates services concurrently through
// two registries over one etcd, as two regis servers: no address and no
// node port is handed out twice.
func TestServiceAllocationAcrossServers(t *testing.T) {
	s := startServer(t)
	other := s.peer(t)
	const perServer = 40
	var mu sync.Mutex
	ips, ports := map[string]string{}, map[int32]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 2*perServer)
	for si, reg := range []*registry.Registry{s.reg, other} {
		st := serviceStore(t, reg)
		for i := range perServer {
			wg.Go(func() {
				name := fmt.Sprintf("s%d-%d", si, i)
				obj, err := st.Create(t.Context(), "default", &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}, registry.CreateOptions{})
				if err != nil {
					errs <- err
					return
				}
				svc := obj.(*corev1.Service)
				mu.Lock()
				defer mu.Unlock()
				if prev, dup := ips[svc.Spec.ClusterIP]; dup {
					errs <- fmt.Errorf("%s and %s both got %s", prev, name, svc.Spec.ClusterIP)
				}
				ips[svc.Spec.ClusterIP] = name
				if prev, dup := ports[svc.Spec.Ports[0].NodePort]; dup {
					errs <- fmt.Errorf("%s and %s both got node port %d", prev, name, svc.Spec.Ports[0].NodePort)
				}
				ports[svc.Spec.Ports[0].NodePort] = name
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := countIPAddresses(t, s); n != 2*perServer+1 {
		t.Errorf("%d IPAddresses, want %d", n, 2*perServer+1)
	}
	_, obj := rawObject(t, "/ranges/servicenodeports")
	b := new(big.Int).SetBytes(obj.(*corev1.RangeAllocation).Data)
	set := 0
	for i := range b.BitLen() {
		set += int(b.Bit(i))
	}
	if set != 2*perServer {
		t.Errorf("%d node ports marked, want %d", set, 2*perServer)
	}
}

// peer returns a second registry over the server's etcd prefix: another
// regis server, without HTTP.
func (s *testServer) peer(t *testing.T) *registry.Registry {
	t.Helper()
	reg, err := registry.New(registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(), Storage: server.EtcdStorage(server.EtcdConfig{
		Client: shared.Client(t), Prefix: "/" + strings.ReplaceAll(t.Name(), "/", "_")})})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func serviceStore(t *testing.T, reg *registry.Registry) *registry.Store {
	t.Helper()
	st, ok := reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "services"})
	if !ok {
		t.Fatal("no services")
	}
	return st
}
