package apiserver_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// get sends a GET with headers to the test server and returns the answer
// and its body, gunzipped when it came gzipped.
func openAPIGet(t *testing.T, s *testServer, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if body, err = gzip.NewReader(resp.Body); err != nil {
			t.Fatal(err)
		}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// openAPIDoc is what the tests read of a document.
type openAPIDoc struct {
	Paths       map[string]map[string]json.RawMessage `json:"paths"`
	Definitions map[string]map[string]any             `json:"definitions"`
}

// openAPIOperation is what the tests read of an operation.
type openAPIOperation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct{ Name string }
	GVK         map[string]string `json:"x-kubernetes-group-version-kind"`
	Action      string            `json:"x-kubernetes-action"`
}

func (d *openAPIDoc) operation(t *testing.T, path, method string) (op openAPIOperation) {
	t.Helper()
	if raw, ok := d.Paths[path][method]; ok {
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return op
}

// checkPatches checks what kubectl relies on to skip its client-side
// validation: every PATCH but those of proxies declares the
// fieldValidation parameter and its group-version-kind.
func checkPatches(t *testing.T, what string, doc *openAPIDoc) {
	t.Helper()
	for path, item := range doc.Paths {
		if _, ok := item["patch"]; !ok {
			continue
		}
		op := doc.operation(t, path, "patch")
		if op.Action == "connect" {
			continue
		}
		if !slices.ContainsFunc(op.Parameters, func(p struct{ Name string }) bool { return p.Name == "fieldValidation" }) || op.GVK["kind"] == "" {
			t.Errorf("%s: PATCH %s (%s) lacks fieldValidation or its kind", what, path, op.OperationID)
		}
	}
}

func TestOpenAPIV2(t *testing.T) {
	s := startServer(t)
	resp, data := openAPIGet(t, s, "/openapi/v2", map[string]string{"Accept": "application/json", "Accept-Encoding": "gzip"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/openapi/v2: %d %v", resp.StatusCode, resp.Header)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.operation(t, "/api/v1/namespaces/{namespace}/pods/{name}", "get").OperationID; got != "readCoreV1NamespacedPod" {
		t.Errorf("pod GET operation %q", got)
	}
	if gvk := doc.Definitions["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"]; gvk == nil {
		t.Errorf("Deployment's definition has no kind: %v", doc.Definitions["io.k8s.api.apps.v1.Deployment"])
	}
	checkPatches(t, "v2", &doc)

	etag := resp.Header.Get("Etag")
	if again, _ := openAPIGet(t, s, "/openapi/v2", map[string]string{"If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
		t.Errorf("/openapi/v2 with its ETag: %d, want 304", again.StatusCode)
	}
	pb, data := openAPIGet(t, s, "/openapi/v2", map[string]string{"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
	if pb.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" || len(data) == 0 || pb.Header.Get("Etag") != etag {
		t.Errorf("/openapi/v2 protobuf: %d %v", pb.StatusCode, pb.Header)
	}
	if bad, _ := openAPIGet(t, s, "/openapi/v2", map[string]string{"Accept": "text/plain"}); bad.StatusCode != http.StatusNotAcceptable {
		t.Errorf("/openapi/v2 as text: %d, want 406", bad.StatusCode)
	}
}

func TestOpenAPIV3(t *testing.T) {
	s := startServer(t)
	resp, data := openAPIGet(t, s, "/openapi/v3", nil)
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(data, &index); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/openapi/v3: %d %v %s", resp.StatusCode, err, data)
	}
	for _, want := range []string{"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/apiregistration.k8s.io/v1", "version"} {
		if _, ok := index.Paths[want]; !ok {
			t.Errorf("the index lacks %s", want)
		}
	}
	for path, gv := range index.Paths {
		resp, data := openAPIGet(t, s, gv.ServerRelativeURL, nil)
		var doc openAPIDoc
		if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &doc) != nil {
			t.Errorf("%s: %d %.200s", gv.ServerRelativeURL, resp.StatusCode, data)
			continue
		}
		if resp.Header.Get("Cache-Control") != "public, immutable" {
			t.Errorf("%s: Cache-Control %q", gv.ServerRelativeURL, resp.Header.Get("Cache-Control"))
		}
		checkPatches(t, path, &doc)
	}

	resp, _ = openAPIGet(t, s, "/openapi/v3/apis/apps/v1?hash=stale", nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != index.Paths["apis/apps/v1"].ServerRelativeURL {
		t.Errorf("stale hash: %d %v", resp.StatusCode, resp.Header)
	}
	for _, p := range []string{"/openapi/v3/apis/nope.example.com/v1", "/openapi/v3/"} {
		if resp, _ := openAPIGet(t, s, p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestKubectlExplain runs kubectl explain against regis: it prints what it
// prints against kube-apiserver, which oracle/diff's TestOpenAPIExplain
// wrote into testdata/openapi (OPENAPI_EXPLAIN_GOLDEN).
func TestKubectlExplain(t *testing.T) {
	k := newKubectl(t, startServer(t))
	for _, args := range [][]string{
		{"explain", "pods.spec.containers"},
		{"explain", "deployment", "--recursive"},
		{"explain", "configmaps"},
		{"explain", "apiservices.spec"},
		{"explain", "horizontalpodautoscalers.spec.metrics", "--api-version=autoscaling/v2"},
		{"explain", "pods", "--output=plaintext-openapiv2"},
	} {
		name := "explain_" + strings.NewReplacer(".", "_", "=", "_", "/", "_", "-", "").Replace(strings.Join(args[1:], "_")) + ".txt"
		want, err := os.ReadFile(filepath.Join("testdata", "openapi", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := k.ok("", args...); got != string(want) {
			t.Errorf("kubectl %s:\n%s\nwant (kube-apiserver's):\n%s", strings.Join(args, " "), got, want)
		}
	}
}
