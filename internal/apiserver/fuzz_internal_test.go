package apiserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// FuzzPatch applies arbitrary JSON, merge and strategic merge patches to
// a config map: a patch fails or succeeds, never panics, and a result
// is never larger than the bound it is given.
func FuzzPatch(f *testing.F) {
	for _, seed := range []struct {
		kind  uint8
		patch string
	}{
		{0, `[{"op":"add","path":"/data/k","value":"v"}]`},
		{0, `[{"op":"copy","from":"/data","path":"/data/c0"},{"op":"copy","from":"/data","path":"/data/c1"}]`},
		{0, `[{"op":"move","from":"/metadata","path":"/metadata/x"}]`},
		{0, `[{"op":"remove","path":"/metadata/~2"},{"op":"test","path":"/data/-1","value":null}]`},
		{0, `[{"op":"replace","path":"","value":[]}]`},
		{1, `{"data":{"k":null},"metadata":{"labels":{"a":"b"}}}`},
		{1, `null`},
		{1, `[[[[[[[[[[[[[[[[[[[[`},
		{2, `{"data":{"$patch":"delete"},"$retainKeys":["x"]}`},
		{2, `{"metadata":{"$setElementOrder/finalizers":[{"a":1}],"finalizers":["x"]}}`},
		{2, `{"$patch":"replace","data":{"a":"b"}}`},
	} {
		f.Add(seed.kind, []byte(seed.patch))
	}
	types := []types.PatchType{types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType}
	limitJSONPatchCopies(DefaultJSONPatchMaxCopyBytes)
	const maxBytes = 64 << 10
	f.Fuzz(func(t *testing.T, kind uint8, patch []byte) {
		cur := &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default", Labels: map[string]string{"a": "b"}, Finalizers: []string{"f"}},
			Data:       map[string]string{"k": strings.Repeat("x", 512)},
		}
		into := &corev1.ConfigMap{}
		err := applyPatch(t.Context(), types[int(kind)%len(types)], cur, patch, into, metav1.FieldValidationWarn, maxBytes)
		if err != nil {
			return
		}
		if n := into.Size(); n > maxBytes {
			t.Fatalf("a patched object of %d bytes passed a %d-byte bound", n, maxBytes)
		}
	})
}

// FuzzClassify reads arbitrary methods, paths and queries as the request
// classifier would: it never panics, every request gets a verb, a resource
// request names its resource, and only a watch or a connection (log,
// exec, attach, portforward, proxy) is long-running.
func FuzzClassify(f *testing.F) {
	for _, seed := range []struct{ method, path, query string }{
		{"GET", "/api/v1/namespaces/default/pods", "watch=1&timeoutSeconds=-1"},
		{"GET", "/api/v1/namespaces/default/pods/p/log", ""},
		{"DELETE", "/api/v1/namespaces", ""},
		{"PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale", ""},
		{"PUT", "/api/v1/namespaces/ns/finalize", ""},
		{"PROPFIND", "//api//v1///", "watch=true&watch=false"},
		{"GET", "/apis/a/b/c/d/e/f/g/h", "%zz"},
		{"GET", "/api", ""},
		{"POST", "/api/v1/namespaces/%2e%2e/configmaps", "dryRun=All"},
	} {
		f.Add(seed.method, seed.path, seed.query)
	}
	f.Fuzz(func(t *testing.T, method, path, query string) {
		if method == "" {
			method = http.MethodGet
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}}
		info := classify(r)
		if info.verb == "" && method != "" {
			t.Fatalf("no verb for %s %s", method, path)
		}
		if info.resourceRequest && info.resource == "" {
			t.Fatalf("a resource request without a resource: %s %s", method, path)
		}
		if info.longRunning && info.verb != "watch" && !connectSubresources[info.subresource] {
			t.Fatalf("%s %s?%s is long-running as %q", method, path, query, info.verb)
		}
		// The gate and the timeout see the same request: never a panic.
		_ = needsStorage(r, info)
		_, _ = requestTimeout(r, time.Minute)
		_ = refuseImpersonation(r, "u")
	})
}

// The request bodies a server reads are bounded.
func TestReadBodyBounded(t *testing.T) {
	s := &Server{cfg: Config{MaxRequestBodyBytes: 10}}
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, 11)))
	rec := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(rec, r.Body, 10)
	if _, err := s.readBody(r); err == nil || !strings.Contains(err.Error(), "limit is 10") {
		t.Fatalf("got %v, want 413", err)
	}
}

// Merge patches nested deeper than MaxPatchDepth are refused before the
// merge library, whose time grows with the square of the depth.
func TestCheckPatchDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(`{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	if err := checkPatchDepth(nest(MaxPatchDepth - 1)); err != nil {
		t.Fatalf("%d levels: %v", MaxPatchDepth, err)
	}
	if err := checkPatchDepth(nest(MaxPatchDepth)); err == nil {
		t.Fatalf("%d levels passed", MaxPatchDepth+1)
	}
	if err := checkPatchDepth([]byte(`{"x":"` + strings.Repeat(`[\"`, 5000) + `"}`)); err != nil {
		t.Fatalf("brackets in a string: %v", err)
	}
	start := time.Now()
	cur := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"}}
	err := applyPatch(t.Context(), types.MergePatchType, cur, nest(9990), &corev1.ConfigMap{}, metav1.FieldValidationWarn, 1<<20)
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("a 9,990-level merge patch: %v after %v", err, time.Since(start))
	}
}
