package apiserver_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bodies over 128 KiB are gzipped for a client that accepts gzip, as
// kube-apiserver's APIResponseCompression: lists (from the watch cache and
// from etcd) and single objects; smaller bodies, clients that do not ask,
// and watches are sent as they are (watch-lists: watch_gzip_test.go).
func TestResponseCompression(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	big := strings.Repeat("x", 60*1024)
	for i := range 4 { // 240 KiB in all; each object under the threshold
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm%d", i)}, Data: map[string]string{"v": big}}
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The watch cache has them all (lists at resourceVersion 0 read it).
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err == nil && len(l.Items) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cache has not caught up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	get := func(t *testing.T, path, accept, encoding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
		req.Header.Set("Accept", accept)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		// A transport of our own: Go's would ask for gzip and inflate.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	tests := []struct {
		name, path, accept, encoding string
		wantGzip                     bool
	}{
		{"list from the cache, json", "/api/v1/namespaces/default/configmaps?resourceVersion=0", "application/json", "gzip", true},
		{"list from etcd, json", "/api/v1/namespaces/default/configmaps", "application/json", "deflate, gzip", true},
		{"list, protobuf", "/api/v1/namespaces/default/configmaps", "application/vnd.kubernetes.protobuf", "gzip", true},
		{"list, no gzip asked", "/api/v1/namespaces/default/configmaps", "application/json", "", false},
		{"list, other encoding", "/api/v1/namespaces/default/configmaps", "application/json", "br", false},
		{"small object", "/api/v1/namespaces/default/configmaps/cm0", "application/json", "gzip", false},
		{"small list", "/api/v1/namespaces/default/configmaps?limit=1", "application/json", "gzip", false},
		{"error", "/api/v1/namespaces/default/configmaps/nope", "application/json", "gzip", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.path, tt.accept, tt.encoding)
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.wantGzip {
				t.Errorf("gzip %v, want %v (Content-Encoding %q, %d bytes)", got, tt.wantGzip, resp.Header.Get("Content-Encoding"), len(body))
			}
			if tt.wantGzip && resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary %q", resp.Header.Get("Vary"))
			}
			if resp.Header.Get("Content-Type") == "" || resp.StatusCode == 0 {
				t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if tt.accept == "application/json" {
				var v map[string]any
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatalf("body: %v", err)
				}
				if items, ok := v["items"].([]any); ok && strings.Contains(tt.path, "limit") == (len(items) == 4) {
					t.Errorf("%d items", len(items))
				}
			}
		})
	}
	// client-go (Go's transport asks for gzip and inflates) reads them.
	l, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(l.Items) != 4 {
		t.Fatalf("client-go list: %v", err)
	}
}
