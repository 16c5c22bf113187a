//go:build oracle

package diff

import (
	"net/http"
	"strings"
	"testing"
)

const (
	head    = http.MethodHead
	options = http.MethodOptions
	cmPath  = "/api/v1/namespaces/{ns}/configmaps"
	depPath = "/apis/apps/v1/namespaces/{ns}/deployments"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}`

// Routing: which answer a path and method get before any handler runs
// (go-restful's 404, 405, 415 and 406), and upstream's plain-text 404
// outside its web services.
func TestRouting(t *testing.T) {
	runScenario(t, "routing", []request{
		{Name: "create", Method: post, Path: cmPath, Body: configMap},
		{Name: "create deployment", Method: post, Path: depPath, Body: deployment},
		{Name: "head collection", Method: head, Path: cmPath},
		{Name: "head item", Method: head, Path: cmPath + "/cm"},
		{Name: "head version", Method: head, Path: "/version"},
		{Name: "options collection", Method: options, Path: cmPath},
		{Name: "options item", Method: options, Path: cmPath + "/cm"},
		{Name: "version subpath", Method: get, Path: "/version/foo"},
		{Name: "post api", Method: post, Path: "/api", Body: `{}`},
		{Name: "post apis", Method: post, Path: "/apis", Body: `{}`},
		{Name: "post group", Method: post, Path: "/apis/apps", Body: `{}`},
		{Name: "delete group version", Method: del, Path: "/apis/apps/v1"},
		{Name: "unknown core version", Method: get, Path: "/api/v2/pods"},
		{Name: "unknown group version", Method: get, Path: "/apis/nope.example.com/v1"},
		{Name: "unknown group", Method: get, Path: "/apis/nope.example.com"},
		{Name: "unknown top path", Method: get, Path: "/nope"},
		{Name: "group subpath", Method: get, Path: "/apis/apps/v9"},
		{Name: "post to all namespaces", Method: post, Path: "/api/v1/configmaps", Body: configMap},
		{Name: "deletecollection all namespaces", Method: del, Path: "/api/v1/configmaps"},
		{Name: "patch collection", Method: patch, Path: cmPath, ContentType: mergeP, Body: `{}`},
		{Name: "post to status", Method: post, Path: depPath + "/web/status", Body: deployment},
		{Name: "delete status", Method: del, Path: depPath + "/web/status"},
		{Name: "post to scale", Method: post, Path: depPath + "/web/scale", Body: `{}`},
		{Name: "delete scale", Method: del, Path: depPath + "/web/scale"},
		{Name: "get finalize", Method: get, Path: "/api/v1/namespaces/{ns}/finalize"},
		{Name: "patch finalize", Method: patch, Path: "/api/v1/namespaces/{ns}/finalize", ContentType: mergeP, Body: `{}`},
		{Name: "unknown subresource of deployment", Method: get, Path: depPath + "/web/nope"},
		{Name: "too deep", Method: get, Path: depPath + "/web/status/x"},
		{Name: "configmap status", Method: get, Path: cmPath + "/cm/status"},
		{Name: "cluster resource in namespace", Method: get, Path: "/api/v1/namespaces/{ns}/nodes"},
		{Name: "watch path post", Method: post, Path: "/api/v1/watch/namespaces/{ns}/configmaps", Body: configMap},
		{Name: "watch path named all namespaces", Method: get, Path: "/api/v1/watch/configmaps/cm"},
		{Name: "patch without content type", Method: patch, Path: cmPath + "/cm", ContentType: " ", Body: `{}`},
		{Name: "patch form", Method: patch, Path: cmPath + "/cm", ContentType: "application/x-www-form-urlencoded", Body: `{}`},
		{Name: "patch apply without manager", Method: patch, Path: cmPath + "/cm", ContentType: "application/apply-patch+yaml", Body: configMap},
		{Name: "create form", Method: post, Path: cmPath, ContentType: "application/x-www-form-urlencoded", Body: `{}`},
		{Name: "update form", Method: put, Path: cmPath + "/cm", ContentType: "text/plain", Body: `{}`},
		{Name: "accept application wildcard", Method: get, Path: cmPath, Accept: "application/*"},
		{Name: "accept png item", Method: get, Path: cmPath + "/cm", Accept: "image/png"},
		{Name: "accept png create", Method: post, Path: cmPath, Accept: "image/png", Body: configMap},
		{Name: "accept unknown conversion", Method: get, Path: cmPath, Accept: "application/json;as=Foo;g=meta.k8s.io;v=v1"},
		{Name: "accept table protobuf", Method: get, Path: cmPath, Accept: "application/vnd.kubernetes.protobuf;as=Table;g=meta.k8s.io;v=v1"},
		{Name: "accept partial for list", Method: get, Path: cmPath, Accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"},
		{Name: "accept partial list for item", Method: get, Path: cmPath + "/cm", Accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"},
		{Name: "accept watch yaml", Method: get, Path: cmPath + "?watch=1&timeoutSeconds=1", Accept: "application/yaml"},
		{Name: "accept table watch", Method: get, Path: cmPath + "?watch=1&timeoutSeconds=1", Accept: "application/json;as=Table;g=meta.k8s.io;v=v1", IgnoreBody: true},
		{Name: "discovery accept png", Method: get, Path: "/apis/apps/v1", Accept: "image/png"},
		{Name: "bad request timeout", Method: get, Path: cmPath + "?timeout=x"},
	})
}

const aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

// Discovery documents: the groups in upstream's priority order, the
// resources with their storageVersionHash.
func TestDiscovery(t *testing.T) {
	runScenario(t, "discovery", []request{
		{Name: "apis", Method: get, Path: "/apis"},
		{Name: "core v1", Method: get, Path: "/api/v1"},
		{Name: "apps", Method: get, Path: "/apis/apps"},
		{Name: "apps v1", Method: get, Path: "/apis/apps/v1"},
		{Name: "aggregated core", Method: get, Path: "/api", Accept: aggregated},
		{Name: "aggregated apis", Method: get, Path: "/apis", Accept: aggregated},
	})
}

// Bad options of every verb: refused as upstream refuses them, in its
// order (decoding, then validation, then the body).
func TestBadOptions(t *testing.T) {
	runScenario(t, "options", []request{
		{Name: "create", Method: post, Path: cmPath, Body: configMap},
		{Name: "create dryRun bad", Method: post, Path: cmPath + "?dryRun=bad", Body: configMap},
		{Name: "create fieldManager too long", Method: post, Path: cmPath + "?fieldManager=" + strings.Repeat("m", 129), Body: configMap},
		{Name: "create fieldValidation bad", Method: post, Path: cmPath + "?fieldValidation=Bad", Body: configMap},
		{Name: "update dryRun bad", Method: put, Path: cmPath + "/cm?dryRun=bad", Body: configMap},
		{Name: "patch dryRun bad", Method: patch, Path: cmPath + "/cm?dryRun=bad", ContentType: mergeP, Body: `{}`},
		{Name: "patch force without apply", Method: patch, Path: cmPath + "/cm?force=true", ContentType: mergeP, Body: `{}`},
		{Name: "delete propagationPolicy bad", Method: del, Path: cmPath + "/cm?propagationPolicy=bad"},
		{Name: "delete gracePeriodSeconds negative", Method: del, Path: cmPath + "/cm?gracePeriodSeconds=-5&dryRun=All"},
		{Name: "delete gracePeriodSeconds not a number", Method: del, Path: cmPath + "/cm?gracePeriodSeconds=x"},
		{Name: "delete orphan with policy", Method: del, Path: cmPath + "/cm?orphanDependents=true&propagationPolicy=Background"},
		{Name: "delete dryRun bad", Method: del, Path: cmPath + "/cm?dryRun=bad"},
		{Name: "delete body of wrong kind", Method: del, Path: cmPath + "/cm", Body: `{"apiVersion":"v1","kind":"ConfigMap"}`},
		{Name: "delete body not json", Method: del, Path: cmPath + "/cm", ContentType: "application/json", Body: `nope`},
		{Name: "delete body bad policy", Method: del, Path: cmPath + "/cm", Body: `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"bad"}`},
		{Name: "delete body precondition", Method: del, Path: cmPath + "/cm?dryRun=All", Body: `{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"nope"}}`},
		{Name: "list limit negative", Method: get, Path: cmPath + "?limit=-1"},
		{Name: "list resourceVersionMatch without resourceVersion", Method: get, Path: cmPath + "?resourceVersionMatch=Exact"},
		{Name: "list resourceVersionMatch bad", Method: get, Path: cmPath + "?resourceVersionMatch=Bad&resourceVersion=1"},
		{Name: "list sendInitialEvents without watch", Method: get, Path: cmPath + "?sendInitialEvents=true"},
		{Name: "list continue with resourceVersion", Method: get, Path: cmPath + "?continue=abc&resourceVersion=1"},
		{Name: "list watch maybe", Method: get, Path: cmPath + "?watch=maybe&timeoutSeconds=1", IgnoreBody: true},
		{Name: "list watch false", Method: get, Path: cmPath + "?watch=False"},
		{Name: "list allowWatchBookmarks bad", Method: get, Path: cmPath + "?allowWatchBookmarks=maybe"},
		{Name: "watch sendInitialEvents without match", Method: get, Path: cmPath + "?watch=1&sendInitialEvents=true&timeoutSeconds=1"},
		{Name: "get resourceVersion bad", Method: get, Path: cmPath + "/cm?resourceVersion=abc"},
		{Name: "table includeObject bad", Method: get, Path: cmPath + "?includeObject=Bad", Accept: "application/json;as=Table;g=meta.k8s.io;v=v1"},
		{Name: "table of an item", Method: get, Path: cmPath + "/cm?includeObject=None", Accept: "application/json;as=Table;g=meta.k8s.io;v=v1", IgnoreBody: true},
		{Name: "table v1beta1", Method: get, Path: cmPath, Accept: "application/json;as=Table;g=meta.k8s.io;v=v1beta1", IgnoreBody: true},
		{Name: "table bad version", Method: get, Path: cmPath, Accept: "application/json;as=Table;g=meta.k8s.io;v=v2"},
		{Name: "deletecollection all namespaces", Method: del, Path: "/api/v1/configmaps"},
		{Name: "deletecollection bad limit", Method: del, Path: cmPath + "?limit=-1"},
		{Name: "deletecollection bad policy", Method: del, Path: cmPath + "?propagationPolicy=bad"},
		{Name: "deletecollection dry run", Method: del, Path: cmPath + "?dryRun=All"},
		{Name: "deletecollection body of wrong kind", Method: del, Path: cmPath + "?dryRun=All", Body: `{"apiVersion":"v1","kind":"ConfigMap"}`},
	})
}
