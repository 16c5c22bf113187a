package server_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/server"
)

// TestQuotaTwoServers: two servers on one etcd take 20 concurrent
// creates, alternately, against a quota with room for 6: exactly 6
// succeed, whichever server they reach, as each charge is a
// compare-and-swap of the quota checked against it as stored.
func TestQuotaTwoServers(t *testing.T) {
	cfg := etcd.EmbeddedConfig{DataDir: t.TempDir(), ClientURL: "http://127.0.0.1:" + strconv.Itoa(freePort(t)),
		PeerURL: "http://127.0.0.1:" + strconv.Itoa(freePort(t)), UnsafeNoFsync: true}
	member, err := etcd.StartEmbedded(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	var clients []*kubernetes.Clientset
	for range 2 {
		f := startFull(t, func(o *server.Options) { o.EtcdServers = []string{cfg.ClientURL} })
		clients = append(clients, kubernetes.NewForConfigOrDie(&rest.Config{Host: f.info.URL, QPS: -1, TLSClientConfig: rest.TLSClientConfig{
			CAData: f.info.CAData, CertData: f.info.ClientCertData, KeyData: f.info.ClientKeyData}}))
	}
	ctx, cs := t.Context(), clients[0]
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "q"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const room = 6
	if _, err := cs.CoreV1().ResourceQuotas("q").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/secrets": resource.MustParse(strconv.Itoa(room))}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Both servers' caches see the quota with its status.
	for _, c := range clients {
		deadline := time.Now().Add(15 * time.Second)
		for {
			q, err := c.CoreV1().ResourceQuotas("q").Get(ctx, "s", metav1.GetOptions{ResourceVersion: "0"})
			if err == nil && len(q.Status.Used) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("quota status: %v %+v", err, q)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = clients[i%2].CoreV1().Secrets("q").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i)}}, metav1.CreateOptions{})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !apierrors.IsForbidden(err):
			t.Errorf("create %d: %v", i, err)
		}
	}
	list, err := cs.CoreV1().Secrets("q").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ok != room || len(list.Items) != room {
		t.Errorf("%d creates succeeded, %d secrets stored, want %d", ok, len(list.Items), room)
	}
	q, err := cs.CoreV1().ResourceQuotas("q").Get(ctx, "s", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := q.Status.Used["count/secrets"]; u.Value() != room {
		t.Errorf("used %v", q.Status.Used)
	}
}
