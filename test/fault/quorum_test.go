//go:build faults

package fault_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/etcd/cluster"
)

// TestQuorumLost kills 2 of 3 members: writes fail fast with a 5xx that
// says why, /readyz turns not ready within the health check's timeout, and
// once the members are back everything recovers by itself. (make faults)
func TestQuorumLost(t *testing.T) {
	c := cluster.StartCluster(t, 3)
	r := cluster.StartRegis(t, "regis", filepath.Join(t.TempDir(), "data"), c.EtcdFlags()...)
	cs := r.Clientset(t)
	ns := newNamespace(t, cs)
	l := startLoad(t, ns, 4, r.Config(t))
	l.waitAcked(t, 100, 30*time.Second)
	l.halt()

	killed := time.Now()
	c.Members[0].Kill()
	c.Members[1].Kill()
	// /readyz turns not ready within a few probes.
	for {
		code, _ := r.Readyz()
		if code == http.StatusInternalServerError {
			t.Logf("/readyz not ready %v after quorum loss", time.Since(killed).Round(time.Millisecond))
			break
		}
		if time.Since(killed) > 15*time.Second {
			t.Fatalf("/readyz still %d 15s after quorum loss", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Writes fail with a 5xx, each in bounded time, soon at once.
	var fast bool
	for i := 0; i < 20 && !fast; i++ {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		start := time.Now()
		err := cs.CoreV1().RESTClient().Post().Namespace(ns).Resource("configmaps").MaxRetries(0).
			Body(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "q-"}}).Do(ctx).Error()
		took := time.Since(start)
		cancel()
		var st apierrors.APIStatus
		if !errors.As(err, &st) || st.Status().Code < 500 {
			t.Fatalf("a write without quorum: %v after %v, want a 5xx", err, took)
		}
		if took > 25*time.Second {
			t.Fatalf("a write without quorum took %v", took)
		}
		t.Logf("write without quorum: %d %s in %v", st.Status().Code, st.Status().Message, took.Round(time.Millisecond))
		fast = took < time.Second
	}
	if !fast {
		t.Fatal("writes without quorum never fail at once")
	}
	// Reads served by the watch cache still answer.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"}); err != nil {
		t.Logf("a cached list without quorum: %v", err)
	} else {
		t.Log("a cached list (resourceVersion=0) without quorum: served")
	}

	back := time.Now()
	c.Members[0].Start(t)
	c.Members[1].Start(t)
	r.WaitReady(t, 60*time.Second)
	t.Logf("ready %v after the members were started", time.Since(back).Round(time.Millisecond))
	l2 := startLoad(t, ns, 4, r.Config(t))
	l2.waitAcked(t, 50, 60*time.Second)
	t.Logf("writes recovered %v after the members were started", time.Since(back).Round(time.Millisecond))
	l2.halt()
	fresh := listState(t, cs, ns)
	l.checkState(t, dataOf(fresh))
}
