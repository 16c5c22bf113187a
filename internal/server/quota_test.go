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
// creates, alternately, against a quota with room for 6 (3 taken, freed
// by deletes during the creates): never more than 6 secrets, whichever
// server the creates reach, as each charge is a compare-and-swap of the
// quota checked against it as stored, and a count never undoes a charge
// in flight.
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
	// Deletes during the creates make the controllers count again while
	// charges are in flight: the count must not undo a charge. Each
	// frees room for one more create.
	for i := range 3 {
		if _, err := cs.CoreV1().Secrets("q").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("old%d", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 5 * time.Millisecond)
			if err := clients[i%2].CoreV1().Secrets("q").Delete(ctx, fmt.Sprintf("old%d", i), metav1.DeleteOptions{}); err != nil {
				t.Error(err)
			}
		})
	}
	for i := range errs {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 75 * time.Millisecond) // over 1.5s: counts happen meanwhile
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
	if ok > room || len(list.Items) > room || ok < room-3 {
		t.Errorf("%d creates succeeded, %d secrets stored, want %d at most (and 3 fewer at least)", ok, len(list.Items), room)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		q, err := cs.CoreV1().ResourceQuotas("q").Get(ctx, "s", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		u := q.Status.Used["count/secrets"]
		if u.Value() == int64(len(list.Items)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("used %v, %d secrets stored", q.Status.Used, len(list.Items))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d creates succeeded", ok)
}
