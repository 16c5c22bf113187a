package fault_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

// --etcd-servers-overrides "/events#URL": events (core and events.k8s.io)
// are kept in their own etcd, everything else in the main one; the
// override cluster has its health checks, and its loss makes /readyz not
// ready.
func TestEventsOverride(t *testing.T) {
	main := cluster.StartCluster(t, 1)
	events := main.Another(t, 1)
	r := cluster.StartRegis(t, "regis", filepath.Join(t.TempDir(), "data"),
		append(main.EtcdFlags(), "--etcd-servers-overrides", "/events#"+strings.Join(events.Endpoints(), ";"))...)
	cs := r.Clientset(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Events("default").Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "core"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"}, Reason: "R", Message: "m", Type: "Normal"}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.EventsV1().Events("default").Create(ctx, &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "new"},
		EventTime: metav1.NowMicro(), ReportingController: "c", ReportingInstance: "i", Action: "A", Reason: "R", Type: "Normal",
		Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	count := func(c *cluster.Cluster, prefix string) int64 {
		resp, err := c.Client(t).Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	if n := count(events, "/registry/events/default/"); n != 2 {
		t.Errorf("the events cluster has %d events, want 2", n)
	}
	if n := count(main, "/registry/events/"); n != 0 {
		t.Errorf("the main cluster has %d events, want 0", n)
	}
	if n := count(main, "/registry/configmaps/default/cm"); n != 1 {
		t.Errorf("the main cluster has %d of the configmap", n)
	}
	if n := count(events, "/registry/configmaps/"); n != 0 {
		t.Errorf("the events cluster has %d configmaps", n)
	}
	list, err := cs.EventsV1().Events("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("events listed: %v %v", list, err)
	}

	verbose := func() (int, string) {
		rc, err := cs.CoreV1().RESTClient().Get().AbsPath("/readyz").Param("verbose", "").DoRaw(ctx)
		if err != nil {
			return http.StatusInternalServerError, string(rc)
		}
		return http.StatusOK, string(rc)
	}
	if code, body := verbose(); code != http.StatusOK || !strings.Contains(body, "etcd-override-readiness-0 ok") {
		t.Errorf("/readyz?verbose: %d %s", code, body)
	}
	events.Members[0].Kill()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := verbose()
		if code != http.StatusOK && strings.Contains(body, "etcd-override-readiness-0 failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz 20s after the events cluster died: %d %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
