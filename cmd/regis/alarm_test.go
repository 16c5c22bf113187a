package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/server"
)

// TestNoSpace: a filled small quota raises NOSPACE; writes fail with
// kube-apiserver's answer (500, etcd's text, no reason: checked against
// kube-apiserver v1.37.2), /readyz fails its etcd-alarms check, reads
// still work; compaction, defrag and disarm restore writes.
func TestNoSpace(t *testing.T) {
	e, err := etcd.StartEmbedded(t.Context(), etcd.EmbeddedConfig{DataDir: filepath.Join(t.TempDir(), "etcd"), QuotaBackendBytes: 16 << 20, UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	o := server.DefaultOptions()
	o.DataDir, o.SecurePort, o.EtcdServers = t.TempDir(), freePort(t), []string{e.Endpoint}
	cfg, stop := runServerWith(t, o)
	defer stop()
	cs := kubernetes.NewForConfigOrDie(cfg)
	cm := func(name string) error {
		_, err := cs.CoreV1().ConfigMaps("default").Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		return err
	}
	if err := cm("before"); err != nil {
		t.Fatal(err)
	}
	c, err := etcd.NewClient([]string{e.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := strings.Repeat("x", 1<<20)
	for i := 0; ; i++ {
		if _, err := c.Put(t.Context(), fmt.Sprintf("/filler/%d", i), big); err != nil {
			if !strings.Contains(err.Error(), "database space exceeded") {
				t.Fatal(err)
			}
			break
		}
	}
	err = cm("after")
	var se *apierrors.StatusError
	if !asStatus(err, &se) || se.ErrStatus.Code != 500 || se.ErrStatus.Message != "etcdserver: mvcc: database space exceeded" || se.ErrStatus.Reason != "" {
		t.Fatalf("create under NOSPACE: %#v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(t.Context(), "before", metav1.GetOptions{}); err != nil {
		t.Fatalf("read under NOSPACE: %v", err)
	}
	readyz := func() (int, string) {
		body, err := cs.CoreV1().RESTClient().Get().AbsPath("/readyz").Param("verbose", "").DoRaw(t.Context())
		if err != nil {
			var se *apierrors.StatusError
			if asStatus(err, &se) {
				return int(se.ErrStatus.Code), string(body) + se.Error()
			}
			return 0, err.Error()
		}
		return 200, string(body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, body := readyz()
		if code != http.StatusOK && strings.Contains(body, "[-]etcd-alarms failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz under NOSPACE: %d %s", code, body)
		}
	}
	live := []string{"--etcd-servers", e.Endpoint}
	out, err := execute(t, t.Context(), nil, append([]string{"alarm", "list"}, live...)...)
	if err != nil || !strings.Contains(out, "NOSPACE") {
		t.Fatalf("alarm list: %v\n%s", err, out)
	}
	// Free the space: delete, compact, defragment, disarm.
	resp, err := c.Delete(t.Context(), "/filler/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(t.Context(), resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	out, err = execute(t, t.Context(), nil, append([]string{"defrag"}, live...)...)
	if err != nil || !strings.Contains(out, "leader") {
		t.Fatalf("defrag: %v\n%s", err, out)
	}
	out, err = execute(t, t.Context(), nil, append([]string{"alarm", "disarm"}, live...)...)
	if err != nil || !strings.Contains(out, "NOSPACE") {
		t.Fatalf("alarm disarm: %v\n%s", err, out)
	}
	if err := cm("after"); err != nil {
		t.Fatalf("create after disarm: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if code, _ := readyz(); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz stays failed after disarm")
		}
	}
	out, err = execute(t, t.Context(), nil, append([]string{"alarm", "list"}, live...)...)
	if err != nil || !strings.Contains(out, "no alarm raised") {
		t.Fatalf("alarm list after disarm: %v\n%s", err, out)
	}
}

func asStatus(err error, se **apierrors.StatusError) bool {
	s, ok := err.(*apierrors.StatusError)
	*se = s
	return ok
}
