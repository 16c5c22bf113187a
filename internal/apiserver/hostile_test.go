package apiserver_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/apiserver"
)

// Issue 8, defect 1: 30 copies of /data into /data drove the server to
// 5.5 GB. Each copy doubles the document: the copy bound (3 MiB, as
// upstream) stops it with 422 at once, and memory stays bounded.
func TestJSONPatchCopyBomb(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bomb", Namespace: "default"},
		Data: map[string]string{"k": strings.Repeat("x", 1024)}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for i := range 30 {
		ops = append(ops, fmt.Sprintf(`{"op":"copy","from":"/data","path":"/data/c%d"}`, i))
	}
	patch := []byte("[" + strings.Join(ops, ",") + "]")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := cs.CoreV1().ConfigMaps("default").Patch(t.Context(), "bomb", types.JSONPatchType, patch, metav1.PatchOptions{})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	// Upstream's answer to a patch that fails to apply: a generic 422
	// (its message hides the library's).
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want 422", err)
	}
	if took > time.Second {
		t.Errorf("answered in %v, want under a second", took)
	}
	// Client and server share this process: everything either allocated.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
		t.Errorf("the request allocated %d MiB", grew>>20)
	}
	got, err := cs.CoreV1().ConfigMaps("default").Get(t.Context(), "bomb", metav1.GetOptions{})
	if err != nil || len(got.Data) != 1 {
		t.Fatalf("the object changed: %v, %d keys", err, len(got.Data))
	}
}

// A JSON patch of more than 10,000 operations is refused with upstream's
// 413 and message; 10,000 are accepted.
func TestJSONPatchOperationLimit(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ops", Namespace: "default"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := func(n int) []byte {
		ops := make([]string, n)
		for i := range ops {
			ops[i] = `{"op":"test","path":"/metadata/name","value":"ops"}`
		}
		return []byte("[" + strings.Join(ops, ",") + "]")
	}
	_, err := cs.CoreV1().ConfigMaps("default").Patch(t.Context(), "ops", types.JSONPatchType, patch(10001), metav1.PatchOptions{})
	if !apierrors.IsRequestEntityTooLargeError(err) ||
		!strings.Contains(err.Error(), "The allowed maximum operations in a JSON patch is 10000, got 10001") {
		t.Fatalf("got %v, want 413", err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Patch(t.Context(), "ops", types.JSONPatchType, patch(10000), metav1.PatchOptions{}); err != nil {
		t.Fatalf("10,000 operations: %v", err)
	}
}

// A patch whose result outgrows the request body limit is refused with
// 413 before it is decoded or stored.
func TestPatchResultBounded(t *testing.T) {
	s := startServer(t, func(c *apiserver.Config) { c.MaxRequestBodyBytes = 64 << 10 })
	cs := s.clientset(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "default"},
		Data: map[string]string{"k": strings.Repeat("x", 40<<10)}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`[{"op":"copy","from":"/data/k","path":"/data/k2"}]`)
	_, err := cs.CoreV1().ConfigMaps("default").Patch(t.Context(), "big", types.JSONPatchType, patch, metav1.PatchOptions{})
	if !apierrors.IsRequestEntityTooLargeError(err) {
		t.Fatalf("got %v, want 413", err)
	}
}

// Issue 8, defect 7: impersonation is not authorized yet, so it is
// refused (403), never silently ignored.
func TestImpersonationRefused(t *testing.T) {
	s := startServer(t)
	cfg := *s.config
	cfg.Impersonate.UserName = "someone"
	cs, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `users "someone" is forbidden: User "system:anonymous" cannot impersonate resource "users" in API group "" at the cluster scope`) {
		t.Fatalf("got %v, want 403", err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/namespaces", nil)
	req.Header.Set("Impersonate-Group", "system:masters")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a group without a user: %d, want 400", resp.StatusCode)
	}
}

// Issue 8, defect 8: a watch with a negative timeoutSeconds ends at once,
// as upstream's (its timer fires immediately).
func TestWatchNegativeTimeoutEnds(t *testing.T) {
	s := startServer(t)
	start := time.Now()
	resp, err := http.Get(s.URL + "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=-1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || time.Since(start) > 5*time.Second {
		t.Fatalf("status %d after %v", resp.StatusCode, time.Since(start))
	}
}
