package apiserver_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/apiserver"
)

// gzipGet lists url, asking for gzip when gz is set (and not decoding it
// in the transport): the decoded body and whether it came gzipped.
func gzipGet(t *testing.T, url, accept string, gz bool) ([]byte, bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", accept)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %v %s %s", err, resp.Status, body)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		return body, false
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body, err = io.ReadAll(zr); err != nil { // checks CRC and length
		t.Fatal(err)
	}
	return body, true
}

// TestGzipListCacheBodies: lists answered from the cache of compressed
// items decode to the very bytes of the same list sent uncompressed, and
// of the list gzipped as before the cache, on a miss and on a hit, in JSON
// and protobuf, for whole lists, selected ones and pages; after a change
// the new objects are sent.
func TestGzipListCacheBodies(t *testing.T) {
	s := startServer(t)
	st, _ := s.reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "pods"})
	e := &benchEnv{s: s, cs: s.clientset(t), pod: st}
	ctx := t.Context()
	for i := range 2000 {
		p := benchPod("default", fmt.Sprintf("gz-%04d", i))
		p.Labels = map[string]string{"half": fmt.Sprint(i % 2)}
		if err := e.pod.Storage().Create(ctx, "/pods/default/"+p.Name, p, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	l, err := e.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	queries := []string{"resourceVersion=0", "", "labelSelector=half%3D1&resourceVersion=0",
		"resourceVersion=" + l.ResourceVersion + "&resourceVersionMatch=Exact", "limit=1500&resourceVersion=" + l.ResourceVersion}
	check := func(t *testing.T) {
		for _, accept := range []string{"application/json", "application/vnd.kubernetes.protobuf"} {
			for _, q := range queries {
				u := e.s.URL + "/api/v1/namespaces/default/pods?" + q
				sameAll(t, accept+" "+q, func() [][]byte {
					plain, gz := gzipGet(t, u, accept, false)
					if gz {
						t.Fatal("gzipped without Accept-Encoding")
					}
					restore := apiserver.DisableGzipListCache()
					before, gzBefore := gzipGet(t, u, accept, true)
					restore()
					miss, gzMiss := gzipGet(t, u, accept, true)
					hit, gzHit := gzipGet(t, u, accept, true)
					if !gzBefore || !gzMiss || !gzHit {
						t.Fatalf("%s %s: not gzipped (%d bytes)", accept, q, len(plain))
					}
					return [][]byte{plain, before, miss, hit}
				})
			}
		}
	}
	check(t)
	// A changed object: the next lists carry it.
	p, err := e.cs.CoreV1().Pods("default").Get(ctx, "gz-0001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Labels["changed"] = "yes"
	if _, err := e.cs.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	queries = queries[:3]
	check(t)
	body, _ := gzipGet(t, e.s.URL+"/api/v1/namespaces/default/pods?resourceVersion=0", "application/json", true)
	if !bytes.Contains(body, []byte(`"changed":"yes"`)) {
		t.Fatal("a list after the change lacks it")
	}
}

// sameAll requires the bodies of one fetch to be equal; a list at
// resourceVersion "0" or "" may move on between requests (a progress
// notification), so a fetch is retried a few times first.
func sameAll(t *testing.T, what string, fetch func() [][]byte) {
	t.Helper()
	var bodies [][]byte
	for range 5 {
		bodies = fetch()
		equal := true
		for _, b := range bodies[1:] {
			equal = equal && bytes.Equal(b, bodies[0])
		}
		if equal {
			return
		}
	}
	for i, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Errorf("%s: body %d (%d bytes) differs from the plain one (%d bytes)", what, i+1, len(b), len(bodies[0]))
		}
	}
}

// BenchmarkListGzip5000 lists 5,000 pods gzipped (as client-go asks),
// reading the compressed bytes, with the cache of compressed list items
// and without it (gzip per list, as before). Run with:
//
//	go test ./internal/apiserver -run '^$' -bench ListGzip5000 -benchtime 100x -count 5
func BenchmarkListGzip5000(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	for i := range 5000 {
		p := benchPod("default", fmt.Sprintf("pod-%05d", i))
		if err := e.pod.Storage().Create(ctx, "/pods/default/"+p.Name, p, nil, 0); err != nil {
			b.Fatal(err)
		}
	}
	for _, format := range []string{"json", "protobuf"} {
		accept := map[string]string{"json": "application/json", "protobuf": "application/vnd.kubernetes.protobuf"}[format]
		// churn: a pod is created before each list (at RV "", which
		// includes it): every list misses the cache.
		for _, rv := range []string{"0", "", "churn"} {
			for _, cache := range []string{"cache", "nocache"} {
				name := fmt.Sprintf("%s/rv=%s/%s", format, map[string]string{"0": "0", "": "empty", "churn": "empty-churn"}[rv], cache)
				b.Run(name, func(b *testing.B) {
					if cache == "nocache" {
						defer apiserver.DisableGzipListCache()()
					}
					u := e.s.URL + "/api/v1/namespaces/default/pods?resourceVersion="
					if rv != "churn" {
						u += rv
					}
					b.ReportAllocs()
					var wire int64
					i := 0
					for b.Loop() {
						if rv == "churn" {
							p := benchPod("default", fmt.Sprintf("churn-%s-%s-%d-%d", format, cache, time.Now().UnixNano(), i))
							if err := e.pod.Storage().Create(ctx, "/pods/default/"+p.Name, p, nil, 0); err != nil {
								b.Fatal(err)
							}
							i++
						}
						req, _ := http.NewRequest(http.MethodGet, u, nil)
						req.Header.Set("Accept", accept)
						req.Header.Set("Accept-Encoding", "gzip")
						resp, err := rawClient.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						n, err := io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
							b.Fatalf("list: %v %s", err, resp.Status)
						}
						wire = n
					}
					b.ReportMetric(float64(wire), "wire-bytes")
				})
			}
		}
	}
}
