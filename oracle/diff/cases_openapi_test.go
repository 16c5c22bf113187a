//go:build oracle

package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// The OpenAPI documents: the answers of the handlers, the schemas of a
// few definitions, the paths of every group-version regis serves, and
// what kubectl explain prints from them.

func TestOpenAPI(t *testing.T) {
	runScenario(t, "openapi", []request{
		{Name: "v2 not acceptable", Method: get, Path: "/openapi/v2", Accept: "text/plain"},
		{Name: "v2 protobuf", Method: get, Path: "/openapi/v2", Accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", IgnoreBody: true},
		{Name: "v3 unknown document", Method: get, Path: "/openapi/v3/apis/nope.example.com/v1"},
		{Name: "v3 trailing slash", Method: get, Path: "/openapi/v3/"},
		{Name: "v3 not acceptable", Method: get, Path: "/openapi/v3/apis/apps/v1", Accept: "text/plain"},
		{Name: "v3 protobuf", Method: get, Path: "/openapi/v3/apis/apps/v1", Accept: "application/com.github.proto-openapi.spec.v3@v1.0+protobuf", IgnoreBody: true},
		{Name: "v3 version", Method: get, Path: "/openapi/v3/version"},
		{Name: "v3 group", Method: get, Path: "/openapi/v3/apis/apps"},
	})
}

// unservedPaths are the paths of the oracle's documents regis does not
// serve: the reviews, CRDs, service account tokens and OIDC discovery.
var unservedPaths = []string{
	"/.well-known/", "/openid/", "/apis/apiextensions.k8s.io/", "/apis/authentication.k8s.io/", "/apis/authorization.k8s.io/",
	"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
}

func unserved(path string) bool {
	path = "/" + strings.TrimPrefix(path, "/") + "/"
	for _, p := range unservedPaths {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// compareDefinitions are the definitions whose schemas must be the same.
var compareDefinitions = []string{"io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.Container", "io.k8s.api.apps.v1.Deployment",
	"io.k8s.api.apps.v1.DeploymentSpec", "io.k8s.api.core.v1.ConfigMap",
	"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}

func TestOpenAPIV2(t *testing.T) {
	o, r := fetchBoth(t, "/openapi/v2")
	for _, name := range compareDefinitions {
		compareJSON(t, "v2 definition "+name, o["definitions"].(map[string]any)[name], r["definitions"].(map[string]any)[name], true)
	}
	comparePaths(t, "v2", o["paths"].(map[string]any), r["paths"].(map[string]any))
	for _, k := range []string{"swagger", "info", "security", "securityDefinitions"} {
		compareJSON(t, "v2 "+k, o[k], r[k], true)
	}
	compareETag(t, "/openapi/v2")
}

func TestOpenAPIV3(t *testing.T) {
	o, r := fetchBoth(t, "/openapi/v3")
	op, rp := o["paths"].(map[string]any), r["paths"].(map[string]any)
	for _, p := range sortedKeys(op) {
		if _, ok := rp[p]; !ok && !unserved(p) {
			t.Errorf("v3 index: regis lacks %s", p)
		}
	}
	for _, p := range sortedKeys(rp) {
		if _, ok := op[p]; !ok {
			t.Errorf("v3 index: regis has %s, the oracle has not", p)
			continue
		}
		od, rd := fetchBoth(t, "/openapi/v3/"+p)
		comparePaths(t, "v3 "+p, od["paths"].(map[string]any), rd["paths"].(map[string]any))
		os, rs := od["components"].(map[string]any)["schemas"].(map[string]any), rd["components"].(map[string]any)["schemas"].(map[string]any)
		for _, name := range sortedKeys(rs) {
			compareJSON(t, "v3 "+p+" schema "+name, os[name], rs[name], slices.Contains(compareDefinitions, name))
		}
	}
	compareETag(t, "/openapi/v3/apis/apps/v1")
}

// comparePaths compares the paths of two documents: regis must have every
// path the oracle serves but the unserved ones, and no other; an operation
// that differs is reported as a body difference.
func comparePaths(t *testing.T, what string, o, r map[string]any) {
	t.Helper()
	for _, p := range sortedKeys(o) {
		if _, ok := r[p]; !ok && !unserved(p) {
			t.Errorf("%s: regis lacks path %s", what, p)
		}
	}
	for _, p := range sortedKeys(r) {
		if _, ok := o[p]; !ok {
			t.Errorf("%s: regis has path %s, the oracle has not", what, p)
			continue
		}
		compareJSON(t, what+" path "+p, o[p], r[p], false)
	}
}

// compareJSON fails the test on a difference when strict, else reports it
// as a body difference.
func compareJSON(t *testing.T, what string, o, r any, strict bool) {
	t.Helper()
	if reflect.DeepEqual(o, r) {
		return
	}
	oj, _ := json.Marshal(o)
	rj, _ := json.Marshal(r)
	if strict {
		t.Errorf("%s differs:\noracle: %.2000s\nregis:  %.2000s", what, oj, rj)
		return
	}
	t.Logf("%s: body: differs: oracle %.300s; regis %.300s", what, oj, rj)
}

// compareETag checks that both servers answer a GET with the ETag they
// sent 304 Not Modified.
func compareETag(t *testing.T, path string) {
	t.Helper()
	for name, cfg := range map[string]*rest.Config{"oracle": servers.oracle, "regis": servers.regis} {
		resp, _ := fetch(t, cfg, path, nil)
		etag := resp.Header.Get("Etag")
		if etag == "" {
			t.Errorf("%s %s: no ETag", name, path)
			continue
		}
		again, _ := fetch(t, cfg, path, map[string]string{"If-None-Match": etag})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("%s %s with If-None-Match: %d, want 304", name, path, again.StatusCode)
		}
	}
}

func fetchBoth(t *testing.T, path string) (oracle, regis map[string]any) {
	t.Helper()
	decode := func(cfg *rest.Config) map[string]any {
		resp, data := fetch(t, cfg, path, nil)
		var v map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &v) != nil {
			t.Fatalf("GET %s: %d %.200s", path, resp.StatusCode, data)
		}
		return v
	}
	return decode(servers.oracle), decode(servers.regis)
}

func fetch(t *testing.T, cfg *rest.Config, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, cfg.Host+path, nil)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestOpenAPIExplain runs kubectl explain in process against both servers:
// what it prints must be the same.
func TestOpenAPIExplain(t *testing.T) {
	for _, args := range [][]string{
		{"explain", "pods.spec.containers"},
		{"explain", "deployment", "--recursive"},
		{"explain", "configmaps"},
		{"explain", "apiservices.spec"},
		{"explain", "horizontalpodautoscalers.spec.metrics", "--api-version=autoscaling/v2"},
		{"explain", "pods", "--output=plaintext-openapiv2"},
	} {
		o := runKubectl(t, servers.oracle, args...)
		r := runKubectl(t, servers.regis, args...)
		if dir := os.Getenv("OPENAPI_EXPLAIN_GOLDEN"); dir != "" {
			// The oracle's output, as internal/apiserver's test of
			// kubectl explain expects it.
			name := "explain_" + strings.NewReplacer(".", "_", "=", "_", "/", "_", "-", "").Replace(strings.Join(args[1:], "_")) + ".txt"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(o), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if o != r {
			t.Errorf("kubectl %s differs:\noracle:\n%.3000s\nregis:\n%.3000s", strings.Join(args, " "), o, r)
		}
	}
}

// runKubectl runs kubectl with args against the server of cfg and returns
// what it printed (and its error).
func runKubectl(t *testing.T, cfg *rest.Config, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["s"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData, InsecureSkipTLSVerify: cfg.Insecure}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken, ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "s", AuthInfo: "u"}
	kc.CurrentContext = "c"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	args = append([]string{"--kubeconfig", path, "--cache-dir", filepath.Join(dir, "cache")}, args...)
	cmd := kubectlcmd.NewKubectlCommand(kubectlcmd.KubectlOptions{
		Arguments:   append([]string{"kubectl"}, args...),
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	var failed string
	cmdutil.BehaviorOnFatal(func(msg string, code int) { panic(fmt.Sprintf("exit %d: %s", code, msg)) })
	defer cmdutil.DefaultBehaviorOnFatal()
	func() {
		defer func() {
			if p := recover(); p != nil {
				failed = fmt.Sprint(p)
			}
		}()
		if err := cmd.Execute(); err != nil {
			failed = err.Error()
		}
	}()
	_ = os.RemoveAll(dir)
	return out.String() + errOut.String() + failed
}
