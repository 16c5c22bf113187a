package apiserver_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/apiserver"
)

// TestPackedObjectsServed: objects the watch cache holds packed (more
// than 256 writes old) are served as they were stored, in lists at RV
// "0" in JSON and protobuf, in tables, in watches from RV "0", and as the
// same bytes by the streamed and the generic list encoders.
func TestPackedObjectsServed(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	cms := cs.CoreV1().ConfigMaps("default")
	const n = 300 // the first ones are packed 256 writes later
	var last string
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%03d", i),
			Labels: map[string]string{"i": fmt.Sprint(i % 3)}, Annotations: map[string]string{"a": "<&>"}},
			Data: map[string]string{"k": fmt.Sprint(i)}}
		out, err := cms.Create(ctx, cm, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		last = out.ResourceVersion
	}
	// The cache holds every write.
	if _, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: last, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}); err != nil {
		t.Fatal(err)
	}
	want := map[string]corev1.ConfigMap{}
	for i := range n {
		cm, err := cms.Get(ctx, fmt.Sprintf("cm-%03d", i), metav1.GetOptions{}) // RV "": etcd
		if err != nil {
			t.Fatal(err)
		}
		want[cm.Name] = *cm
	}
	for _, ct := range []string{"application/json", "application/vnd.kubernetes.protobuf"} {
		cfg := rest.CopyConfig(s.config)
		cfg.ContentType, cfg.AcceptContentTypes = ct, ct
		c := kubernetes.NewForConfigOrDie(cfg)
		for _, opts := range []metav1.ListOptions{{ResourceVersion: "0"}, {ResourceVersion: "0", LabelSelector: "i=1"}} {
			l, err := c.CoreV1().ConfigMaps("default").List(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if opts.LabelSelector == "" && len(l.Items) != n || opts.LabelSelector != "" && len(l.Items) != n/3 {
				t.Fatalf("%s %+v: %d items", ct, opts, len(l.Items))
			}
			for _, got := range l.Items {
				if w := want[got.Name]; !reflect.DeepEqual(got, w) {
					t.Fatalf("%s: %s listed from the cache differs from etcd's:\n%#v\n%#v", ct, got.Name, got, w)
				}
			}
		}
		w, err := c.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			ev := <-w.ResultChan()
			got, ok := ev.Object.(*corev1.ConfigMap)
			if !ok {
				t.Fatalf("%s watch: %v", ct, ev)
			}
			if w := want[got.Name]; !reflect.DeepEqual(*got, w) {
				t.Fatalf("%s: %s watched from the cache differs from etcd's", ct, got.Name)
			}
		}
		w.Stop()
	}
	// A table of them, and the same bytes from both list encoders.
	hc := http.DefaultClient
	get := func(url, accept string) []byte {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Accept", accept)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
		}
		return b
	}
	url := s.URL + "/api/v1/namespaces/default/configmaps?resourceVersion=0"
	if b := get(url, "application/json;as=Table;v=v1;g=meta.k8s.io"); !bytes.Contains(b, []byte(`"cm-000"`)) {
		t.Errorf("table: %.300s", b)
	}
	for _, accept := range []string{"application/json", "application/vnd.kubernetes.protobuf"} {
		streamed := get(url, accept)
		restore := apiserver.GenericLists()
		generic := get(url, accept)
		restore()
		if !bytes.Equal(streamed, generic) {
			t.Errorf("%s: the streamed list of packed objects differs from the generic encoder's", accept)
		}
	}
}
