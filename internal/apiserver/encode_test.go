package apiserver_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/apiserver"
)

// TestListStreamingSameBytes checks that a list written from the watch
// cache's encoded objects is byte for byte what the generic list encoder
// writes, in JSON and protobuf, for cached and consistent lists, pages,
// selectors and empty lists.
func TestListStreamingSameBytes(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	pods := cs.CoreV1().Pods("default")
	for i := range 5 {
		p := testPod(fmt.Sprintf("p%d", i))
		p.Annotations = map[string]string{"html": "<a href='x'>&amp;</a>", "unicode": "é\u2028ü"}
		if i%2 == 0 {
			p.Labels["even"] = "yes"
		}
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := pods.Get(ctx, "p1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Labels["updated"] = "1"
	updated, err := pods.Update(ctx, p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The watch cache has the update before anything is read at RV "0".
	if _, err := pods.List(ctx, metav1.ListOptions{ResourceVersion: updated.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}); err != nil {
		t.Fatal(err)
	}
	// Watchers encode some objects first (their cached bytes are reused).
	w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		<-w.ResultChan()
	}
	w.Stop()

	get := func(t *testing.T, url, accept string) []byte {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v %s", url, resp.StatusCode, err, b)
		}
		return b
	}
	for _, accept := range []string{"application/json", "application/vnd.kubernetes.protobuf"} {
		for _, q := range []string{
			"namespaces/default/pods?resourceVersion=0",
			"namespaces/default/pods",
			"pods?resourceVersion=0",
			"namespaces/default/pods?limit=2",
			"namespaces/default/pods?labelSelector=even%3Dyes&resourceVersion=0",
			"namespaces/default/pods?fieldSelector=metadata.name%3Dp1",
			"namespaces/empty/pods?resourceVersion=0",
			"namespaces/default/configmaps",
		} {
			t.Run(accept+"/"+q, func(t *testing.T) {
				url := s.URL + "/api/v1/" + q
				streamed := get(t, url, accept)
				restore := apiserver.GenericLists()
				generic := get(t, url, accept)
				restore()
				if !bytes.Equal(streamed, generic) {
					t.Errorf("streamed list differs from the generic encoder's:\n%q\n%q", streamed, generic)
				}
			})
		}
	}
}
