package apiserver_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The deprecated watch paths (/api/v1/watch/..., /apis/G/V/watch/...) are
// served as kube-apiserver serves them: a watch of the collection, or of
// the object the path names (a metadata.name field selector, which a
// selector given must agree with: 400 otherwise).
func TestLegacyWatchPaths(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	for _, name := range []string{"a", "b"} {
		if _, err := cs.CoreV1().ConfigMaps("default").Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	watchNames := func(t *testing.T, path string) (int, []string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var names []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var e struct {
				Type   string
				Object struct{ Metadata struct{ Name string } }
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			names = append(names, e.Type+" "+e.Object.Metadata.Name)
		}
		return resp.StatusCode, names
	}
	tests := []struct {
		path      string
		wantCode  int
		wantNames int
	}{
		{"/api/v1/watch/namespaces/default/configmaps?resourceVersion=0&timeoutSeconds=1", 200, 2},
		{"/api/v1/watch/configmaps?resourceVersion=0&timeoutSeconds=1", 200, 2},
		{"/api/v1/watch/namespaces/default/configmaps/a?resourceVersion=0&timeoutSeconds=1", 200, 1},
		{"/api/v1/watch/namespaces/default/configmaps/a?resourceVersion=0&timeoutSeconds=1&fieldSelector=metadata.name%3Da", 200, 1},
		{"/api/v1/watch/namespaces/default/configmaps/a?timeoutSeconds=1&fieldSelector=metadata.name%3Db", 400, 1},
		{"/api/v1/watch/namespaces/default/nopes?timeoutSeconds=1", 404, 1},
	}
	for _, tt := range tests {
		code, names := watchNames(t, tt.path)
		if code != tt.wantCode || len(names) != tt.wantNames {
			t.Errorf("%s: %d %v, want %d and %d lines", tt.path, code, names, tt.wantCode, tt.wantNames)
		}
		if code == 200 && tt.wantNames == 1 && names[0] != "ADDED a" {
			t.Errorf("%s: %v", tt.path, names)
		}
	}
}
