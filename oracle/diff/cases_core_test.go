//go:build oracle

package diff

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const (
	get    = http.MethodGet
	post   = http.MethodPost
	put    = http.MethodPut
	patch  = http.MethodPatch
	del    = http.MethodDelete
	mergeP = "application/merge-patch+json"
	jsonP  = "application/json-patch+json"
	smpP   = "application/strategic-merge-patch+json"
)

const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  labels: {app: web}
data: {a: "1"}`

func TestConfigMaps(t *testing.T) {
	runScenario(t, "configmaps", []request{
		{Name: "create", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps", Body: configMap},
		{Name: "create again", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps", Body: configMap},
		{Name: "get", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps/cm"},
		{Name: "get missing", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps/nope"},
		{Name: "list", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps"},
		{Name: "list by label", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps?labelSelector=app%3Dweb"},
		{Name: "list bad selector", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps?labelSelector=a%3D%3D%3Db"},
		{Name: "update without rv", Method: put, Path: "/api/v1/namespaces/{ns}/configmaps/cm",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: \"2\"}"},
		{Name: "update stale rv", Method: put, Path: "/api/v1/namespaces/{ns}/configmaps/cm",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, resourceVersion: \"1\"}\ndata: {a: \"3\"}"},
		{Name: "update name mismatch", Method: put, Path: "/api/v1/namespaces/{ns}/configmaps/cm",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: \"3\"}"},
		{Name: "update missing", Method: put, Path: "/api/v1/namespaces/{ns}/configmaps/nope",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nope}\ndata: {a: \"3\"}"},
		{Name: "merge patch", Method: patch, Path: "/api/v1/namespaces/{ns}/configmaps/cm", ContentType: mergeP,
			Body: `{"data":{"b":"2"}}`},
		{Name: "json patch", Method: patch, Path: "/api/v1/namespaces/{ns}/configmaps/cm", ContentType: jsonP,
			Body: `[{"op":"add","path":"/data/c","value":"3"}]`},
		{Name: "json patch bad path", Method: patch, Path: "/api/v1/namespaces/{ns}/configmaps/cm", ContentType: jsonP,
			Body: `[{"op":"replace","path":"/nope/x","value":"3"}]`},
		{Name: "strategic patch", Method: patch, Path: "/api/v1/namespaces/{ns}/configmaps/cm", ContentType: smpP,
			Body: `{"metadata":{"labels":{"tier":"front"}}}`},
		{Name: "patch unsupported type", Method: patch, Path: "/api/v1/namespaces/{ns}/configmaps/cm", ContentType: "text/plain",
			Body: `{}`},
		{Name: "patch missing", Method: patch, Path: "/api/v1/namespaces/{ns}/configmaps/nope", ContentType: mergeP,
			Body: `{"data":{"b":"2"}}`},
		{Name: "create wrong kind", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps",
			Body: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}"},
		{Name: "create bad json", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps", ContentType: "application/json",
			Body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":1}}`},
		{Name: "create invalid name", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}"},
		{Name: "create invalid key", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps",
			Body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: badkey}\ndata: {\"a b\": x}"},
		{Name: "delete", Method: del, Path: "/api/v1/namespaces/{ns}/configmaps/cm"},
		{Name: "delete missing", Method: del, Path: "/api/v1/namespaces/{ns}/configmaps/cm"},
		{Name: "create for collection", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps", Body: configMap},
		{Name: "deletecollection", Method: del, Path: "/api/v1/namespaces/{ns}/configmaps?labelSelector=app%3Dweb"},
		{Name: "create in missing namespace", Method: post, Path: "/api/v1/namespaces/nope-ns/configmaps", Body: configMap},
	})
}

func TestAPIRoutes(t *testing.T) {
	runScenario(t, "routes", []request{
		{Name: "version", Method: get, Path: "/version", IgnoreBody: true},
		{Name: "put version", Method: put, Path: "/version", Body: `{}`},
		{Name: "namespaces deletecollection", Method: del, Path: "/api/v1/namespaces?labelSelector=nothing%3Dhere"},
		{Name: "unknown group", Method: get, Path: "/apis/nope.example.com/v1/things"},
		{Name: "unknown resource", Method: get, Path: "/api/v1/namespaces/{ns}/nopes"},
		{Name: "unknown version", Method: get, Path: "/apis/apps/v9/deployments"},
		{Name: "legacy watch path", Method: get, Path: "/api/v1/watch/namespaces/{ns}/configmaps?timeoutSeconds=1", IgnoreBody: true},
		{Name: "post to item", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps/cm", Body: configMap},
		{Name: "put to collection", Method: put, Path: "/api/v1/namespaces/{ns}/configmaps", Body: configMap},
		{Name: "unknown subresource", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps/cm/nope"},
		{Name: "bad timeout", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps?timeoutSeconds=x"},
		{Name: "bad limit", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps?limit=x"},
		{Name: "bad continue", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps?limit=1&continue=garbage"},
		{Name: "bad field selector", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps?fieldSelector=spec.nope%3Dx"},
		{Name: "bad resourceVersion", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps?resourceVersion=abc"},
		{Name: "unacceptable accept", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps", Accept: "image/png"},
		{Name: "unsupported media type", Method: post, Path: "/api/v1/namespaces/{ns}/configmaps", ContentType: "image/png", Body: "x"},
	})
}

// Bodies over 128 KiB are gzipped for clients that accept it.
func TestCompression(t *testing.T) {
	big := strings.Repeat("x", 60*1024)
	var reqs []request
	for i := range 3 {
		reqs = append(reqs, request{Name: fmt.Sprintf("create %d", i), Method: post, Path: "/api/v1/namespaces/{ns}/configmaps", IgnoreBody: true,
			Body: fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big%d"},"data":{"v":%q}}`, i, big)})
	}
	gzip := map[string]string{"Accept-Encoding": "gzip"}
	reqs = append(reqs,
		request{Name: "list gzip", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps", IgnoreBody: true, Header: gzip},
		request{Name: "list gzip, protobuf", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps", IgnoreBody: true, Header: gzip,
			Accept: "application/vnd.kubernetes.protobuf"},
		request{Name: "list plain", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps", IgnoreBody: true},
		request{Name: "get gzip", Method: get, Path: "/api/v1/namespaces/{ns}/configmaps/big0", IgnoreBody: true, Header: gzip},
	)
	runScenario(t, "compression", reqs)
}
